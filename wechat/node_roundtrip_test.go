package wechat

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/testenv"
)

// nodeModules finds node and the repository's node_modules (see testenv).
func nodeModules(t *testing.T, pkg string) (node, dir string) {
	t.Helper()
	return testenv.Node(t), testenv.Modules(t, pkg)
}

// TestWechatCryptoRoundTrip: the npm package wechat-crypto (a separate
// implementation) seals a kf callback that our endpoint accepts, and opens one we seal.
func TestWechatCryptoRoundTrip(t *testing.T) {
	node, modules := nodeModules(t, "wechat-crypto")
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	ours, _ := NewCipher(vecToken, vecAESKey, testCorp)
	oursPlain := "<xml><Content><![CDATA[员工的回复 reply]]></Content></xml>"
	oursEnc, err := ours.Encrypt([]byte(oursPlain))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(map[string]any{
		"token": vecToken, "aesKey": vecAESKey, "receiveId": testCorp, "timestamp": ts, "nonce": "4242",
		"plaintext": kfInner("NODETOKEN"),
		"ours":      map[string]string{"encrypt": oursEnc},
	})
	cmd := exec.Command(node, filepath.Join("testdata", "wechat_crypto_roundtrip.js"), modules)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got struct {
		Encrypt, Signature, OursSignature, OursMessage, OursID string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}

	// Theirs -> our endpoint.
	sink := &memSink{}
	body := "<xml><ToUserName><![CDATA[" + testCorp + "]]></ToUserName><Encrypt><![CDATA[" + got.Encrypt + "]]></Encrypt></xml>"
	q := url.Values{"msg_signature": {got.Signature}, "timestamp": {ts}, "nonce": {"4242"}}
	rec := do(newKfHandler(t, sink, now), http.MethodPost, "/wechat/callback?"+q.Encode(), body)
	if rec.Code != 200 || len(sink.pulls) != 1 || sink.pulls[0].Token != "NODETOKEN" {
		t.Fatalf("endpoint answered %d, pulls %+v", rec.Code, sink.pulls)
	}

	// Ours -> theirs.
	if got.OursMessage != oursPlain || got.OursID != testCorp {
		t.Fatalf("wechat-crypto opened %q for %q", got.OursMessage, got.OursID)
	}
	if got.OursSignature != ours.Sign(ts, "4242", oursEnc) {
		t.Fatalf("signatures differ: %s vs %s", got.OursSignature, ours.Sign(ts, "4242", oursEnc))
	}
}
