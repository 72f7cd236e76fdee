package wechat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of what WeChat (or anyone posing as WeChat) sends us: the
// callback's query, envelope and ciphertext, the decrypted XML, and the JSON of
// kf/sync_msg. `make test-fuzz` runs each for a few seconds; the seeds here and
// in testdata/fuzz run with every `go test`.

// FuzzDecrypt: arbitrary ciphertext never panics, and whatever decrypts re-seals to
// something that decrypts to the same message.
func FuzzDecrypt(f *testing.F) {
	c, _ := NewCipher(vecToken, vecAESKey, vecReceiveID)
	f.Add(vecEchostr)
	f.Add("")
	f.Add("AAAA")
	f.Add("jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==")
	f.Fuzz(func(t *testing.T, enc string) {
		msg, err := c.Decrypt(enc)
		if err != nil {
			return
		}
		again, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(again)
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("re-seal round trip: %q %v", back, err)
		}
	})
}

// FuzzEncrypt: decrypt(encrypt(x)) == x for any message and receive id, the
// ciphertext is whole 32-byte blocks of exactly the documented layout, and the
// signature over it verifies, while a one-byte change to the ciphertext, the
// timestamp or the nonce, or another signature, never does.
func FuzzEncrypt(f *testing.F) {
	f.Add([]byte(vecPlain), vecReceiveID, vecTimestamp, vecNonce, uint16(0), byte(1))
	f.Add([]byte("我是中文abcd123"), "wxb11529c136998cb6", "1409735669", "1320562132", uint16(7), byte(0x20))
	f.Add([]byte(kfInner("ENCTOKEN")), testCorp, "1700000000", "12345", uint16(40), byte(0x80))
	f.Add([]byte{}, "x", "0", "", uint16(3), byte(0xff))
	f.Add(bytes.Repeat([]byte{32}, 64), "wwTESTCORP", "1", "n", uint16(1000), byte(2))
	f.Fuzz(func(t *testing.T, msg []byte, receiveID, ts, nonce string, pos uint16, flip byte) {
		c, err := NewCipher(vecToken, vecAESKey, receiveID)
		if err != nil {
			if receiveID != "" {
				t.Fatalf("NewCipher: %v", err)
			}
			return
		}
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("ciphertext is not base64: %v", err)
		}
		if n := 16 + 4 + len(msg) + len(receiveID); len(raw) != (n/blockSize+1)*blockSize {
			t.Fatalf("%d bytes of ciphertext for %d of content", len(raw), n)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("decrypt(encrypt(%q)) = %q, %v", msg, got, err)
		}
		sig := c.Sign(ts, nonce, enc)
		if err := c.Verify(sig, ts, nonce, enc); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err := c.Verify(strings.ToUpper(sig), ts, nonce, enc); err != nil {
			t.Fatalf("upper-case hex refused: %v", err)
		}
		if flip == 0 {
			flip = 1
		}
		mutate := func(s string) string {
			if s == "" {
				return string(flip)
			}
			b := []byte(s)
			b[int(pos)%len(b)] ^= flip
			return string(b)
		}
		for _, m := range []struct{ name, ts, nonce, enc string }{
			{"ciphertext", ts, nonce, mutate(enc)},
			{"timestamp", mutate(ts), nonce, enc},
			{"nonce", ts, mutate(nonce), enc},
		} {
			if err := c.Verify(sig, m.ts, m.nonce, m.enc); err == nil {
				t.Fatalf("signature accepted with the %s changed", m.name)
			}
		}
		if other := mutate(sig); !strings.EqualFold(other, sig) && c.Verify(other, ts, nonce, enc) == nil {
			t.Fatalf("signature %q accepted in place of %q", other, sig)
		}
		// Another receive id (another corp or app) never opens it.
		if other, _ := NewCipher(vecToken, vecAESKey, receiveID+"x"); other != nil {
			if _, err := other.Decrypt(enc); err == nil {
				t.Fatal("another receive id decrypted the payload")
			}
		}
	})
}

// FuzzKfCallback: an arbitrary inner plaintext, properly sealed (what WeChat's
// servers would post), never panics the handler or gets a 5xx (the sink here
// never fails). A rejection hands nothing on; an accepted kf_msg_or_event hands
// on exactly the Token and OpenKfId of the XML, and an accepted Official
// Account message exactly what ParseOfficialAccountXML makes of it.
func FuzzKfCallback(f *testing.F) {
	f.Add(false, kfInner("T"))
	f.Add(false, "<xml>")
	f.Add(false, "<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>x</Token></xml>")
	f.Add(false, "<xml><MsgType>event</MsgType><Event>kf_account_auth_change</Event></xml>")
	f.Add(false, "")
	f.Add(true, oaText)
	f.Add(true, `<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_emp1</EventKey></xml>`)
	f.Add(true, `<xml><FromUserName>o</FromUserName><MsgType>text</MsgType></xml>`)
	now := time.Unix(1700000000, 0)
	kf, _ := NewCipher(vecToken, vecAESKey, testCorp)
	oa, _ := NewCipher("oatoken", vecAESKey, "wxAPPID")
	f.Fuzz(func(t *testing.T, officialAccount bool, inner string) {
		ts := strconv.FormatInt(now.Unix(), 10)
		sink := &memSink{}
		var h *CallbackHandler
		var target, body string
		if officialAccount {
			h = newOAHandler(t, sink, now, vecAESKey)
			b, sig, err := oa.Seal([]byte(inner), ts, "1")
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"signature": {Signature("oatoken", ts, "1")}, "msg_signature": {sig}, "encrypt_type": {"aes"}, "timestamp": {ts}, "nonce": {"1"}}
			target, body = "/wechat/callback?"+q.Encode(), string(b)
		} else {
			h = newKfHandler(t, sink, now)
			b, sig, err := kf.Seal([]byte(inner), ts, "1")
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {"1"}}
			target, body = "/wechat/callback?"+q.Encode(), string(b)
		}
		rec := do(h, http.MethodPost, target, body)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d", rec.Code)
		case rec.Code != http.StatusOK:
			if sink.count() != 0 {
				t.Fatalf("status %d, yet %d handed on", rec.Code, sink.count())
			}
			return
		case rec.Body.String() != "success":
			t.Fatalf("accepted with body %q", rec.Body)
		}
		if officialAccount {
			want, err := ParseOfficialAccountXML([]byte(inner))
			if err != nil || len(sink.msgs) != 1 || !reflect.DeepEqual(sink.msgs[0], want) || want.Account == "" {
				t.Fatalf("handed on %+v for %+v (%v)", sink.msgs, want, err)
			}
			return
		}
		var cb kfCallback
		_ = xml.Unmarshal([]byte(inner), &cb)
		if cb.MsgType != "event" || cb.Event != "kf_msg_or_event" {
			if sink.count() != 0 {
				t.Fatalf("%s/%s handed on", cb.MsgType, cb.Event)
			}
			return
		}
		want := PullRequest{OpenKfID: cb.OpenKfID, Token: cb.Token, Received: now}
		if len(sink.pulls) != 1 || sink.pulls[0] != want || want.Token == "" || want.OpenKfID == "" {
			t.Fatalf("pulls %+v, want %+v", sink.pulls, want)
		}
	})
}

func newOAHandler(t testing.TB, sink Sink, now time.Time, aesKey string) *CallbackHandler {
	t.Helper()
	h, err := NewCallbackHandler(CallbackConfig{Mode: SourceOfficialAccount, Token: "oatoken", EncodingAESKey: aesKey,
		ReceiveID: "wxAPPID", Sink: sink, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// signedOriginal is a callback signed the way WeChat signs it, and what the
// sink must receive for it.
type signedOriginal struct {
	ts, nonce string
	pull      *PullRequest
	msg       *Message
	// plain is what was sealed (kf): a URL check that replays the sealed
	// payload as its echostr echoes it, as WeChat's own SDKs do.
	plain string
}

// callbackOriginals are the requests FuzzCallbackRequest starts from, made
// with fixed random prefixes so that the seeds stay valid.
func callbackOriginals(now time.Time) (seeds [][3]string, byMode map[byte][]signedOriginal) {
	kf, _ := NewCipher(vecToken, vecAESKey, testCorp)
	oa, _ := NewCipher("oatoken", vecAESKey, "wxAPPID")
	kf.Rand = bytes.NewReader(bytes.Repeat([]byte("0123456789abcdef"), 4))
	oa.Rand = bytes.NewReader(bytes.Repeat([]byte("fedcba9876543210"), 4))
	ts := strconv.FormatInt(now.Unix(), 10)
	byMode = map[byte][]signedOriginal{}
	oaMsg, _ := ParseOfficialAccountXML([]byte(oaText))

	// Mode 0: kf. A pull notice, and the console's URL check.
	body, sig, _ := kf.Seal([]byte(kfInner("T1")), ts, "n1")
	seeds = append(seeds, [3]string{"\x00POST", url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {"n1"}}.Encode(), string(body)})
	echo, _ := kf.Encrypt([]byte("echo-1616140317555161061"))
	seeds = append(seeds, [3]string{"\x00GET", url.Values{"msg_signature": {kf.Sign(ts, "n2", echo)}, "timestamp": {ts}, "nonce": {"n2"}, "echostr": {echo}}.Encode(), ""})
	byMode[0] = []signedOriginal{
		{ts: ts, nonce: "n1", pull: &PullRequest{OpenKfID: "wkABC", Token: "T1", Received: now}, plain: kfInner("T1")},
		{ts: ts, nonce: "n2", plain: "echo-1616140317555161061"},
	}

	// Mode 1: Official Account safe mode.
	body, sig, _ = oa.Seal([]byte(oaText), ts, "n3")
	seeds = append(seeds, [3]string{"\x01POST", url.Values{"signature": {Signature("oatoken", ts, "n3")}, "msg_signature": {sig},
		"encrypt_type": {"aes"}, "timestamp": {ts}, "nonce": {"n3"}}.Encode(), string(body)})
	seeds = append(seeds, [3]string{"\x01GET", url.Values{"signature": {Signature("oatoken", ts, "n4")}, "timestamp": {ts}, "nonce": {"n4"}, "echostr": {"e4"}}.Encode(), ""})
	byMode[1] = []signedOriginal{{ts: ts, nonce: "n3", msg: &oaMsg}, {ts: ts, nonce: "n4"}}

	// Mode 2: Official Account plaintext mode: the signature covers the
	// timestamp and nonce only, so the body is whatever was posted with them.
	seeds = append(seeds, [3]string{"\x02POST", url.Values{"signature": {Signature("oatoken", ts, "n5")}, "timestamp": {ts}, "nonce": {"n5"}, "openid": {"oUSER"}}.Encode(), oaText})
	seeds = append(seeds, [3]string{"\x02GET", url.Values{"signature": {Signature("oatoken", ts, "n6")}, "timestamp": {ts}, "nonce": {"n6"}, "echostr": {"e6"}}.Encode(), ""})
	byMode[2] = []signedOriginal{{ts: ts, nonce: "n5"}, {ts: ts, nonce: "n6"}}
	return seeds, byMode
}

// FuzzCallbackRequest: the whole callback request as anyone could send it
// (method, query, body), starting from genuine signed ones in each mode. No
// request gets a 5xx; a rejected one hands nothing on. What is accepted is only
// ever what was signed: in kf and safe mode the very pull notice or message
// sealed in the seed (whatever else was changed around it), in plaintext mode
// a body posted with a genuinely signed timestamp and nonce. A URL check
// echoes only what was sealed (kf) or goes with a signed timestamp and nonce
// (Official Account). No body over DefaultMaxBody is taken.
func FuzzCallbackRequest(f *testing.F) {
	now := time.Unix(1700000000, 0)
	seeds, originals := callbackOriginals(now)
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Add(seeds[0][0], seeds[0][1], seeds[0][2]+strings.Repeat(" ", DefaultMaxBody)) // signed, but too long
	f.Add("\x00POST", "timestamp=1700000000&nonce=1", "<xml><Encrypt>AAAA</Encrypt></xml>")
	f.Add("\x01POST", "encrypt_type=aes&timestamp=1700000000&nonce=1&msg_signature=00", oaText)
	f.Add("\x02PUT", "", "")
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if method == "" {
			return
		}
		mode := method[0] % 3
		method = method[1:]
		if method != http.MethodGet && method != http.MethodPost {
			method = http.MethodPut
		}
		sink := &memSink{}
		var h *CallbackHandler
		switch mode {
		case 0:
			h = newKfHandler(t, sink, now)
		case 1:
			h = newOAHandler(t, sink, now, vecAESKey)
		default:
			h = newOAHandler(t, sink, now, "")
		}
		// The query goes in as sent: a request line could not carry some of
		// these bytes, but the handler must not depend on that.
		req := httptest.NewRequest(method, "/wechat/callback", strings.NewReader(body))
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code != http.StatusOK {
			if sink.count() != 0 {
				t.Fatalf("status %d, yet %d handed on", rec.Code, sink.count())
			}
			return
		}
		if method == http.MethodPost && len(body) > DefaultMaxBody {
			t.Fatalf("a body of %d bytes accepted (limit %d)", len(body), DefaultMaxBody)
		}
		q, _ := url.ParseQuery(query)
		signed := func(o signedOriginal) bool { return q.Get("timestamp") == o.ts && q.Get("nonce") == o.nonce }
		signedHere := originals[mode]
		if mode != 0 {
			// Both Official Account modes take the same plain signature of the
			// timestamp and nonce (URL checks, plaintext posts).
			signedHere = append(slices.Clone(originals[1]), originals[2]...)
		}
		if method == http.MethodGet {
			for _, o := range signedHere {
				if signed(o) && (mode != 0 || rec.Body.String() == o.plain) {
					return
				}
			}
			t.Fatalf("URL check answered %q for a request nobody signed: %s", rec.Body, query)
		}
		if sink.count() > 1 {
			t.Fatalf("one request handed on %d items", sink.count())
		}
		for _, o := range signedHere {
			switch {
			case !signed(o):
			case mode == 2:
				return // plaintext mode: any body goes with a signed timestamp and nonce
			case o.pull != nil && len(sink.pulls) == 1 && sink.pulls[0] == *o.pull,
				o.msg != nil && len(sink.msgs) == 1 && reflect.DeepEqual(sink.msgs[0], *o.msg):
				return
			}
		}
		t.Fatalf("accepted what nobody signed: pulls %+v msgs %+v (query %s)", sink.pulls, sink.msgs, query)
	})
}

// FuzzParseKfMessage: an arbitrary sync_msg entry never panics and always
// yields a Kind, and parsing is stable: what the entry's fields say, encoded
// again as WeCom would, parses to the same message.
func FuzzParseKfMessage(f *testing.F) {
	for _, s := range kfSamples {
		f.Add(s)
	}
	f.Add(`{"msgtype":"event","event":null}`)
	f.Add(`{"msgtype":"text","text":null}`)
	f.Add(`{"MsgType":"text","TEXT":{"content":"case"},"msgid":"a","msgid":"b"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseKfMessage([]byte(raw))
		if err != nil {
			return
		}
		if m.Kind == "" || m.Source != SourceKf {
			t.Fatalf("kind %q source %q", m.Kind, m.Source)
		}
		var km kfMsg
		if err := json.Unmarshal([]byte(raw), &km); err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(km)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseKfMessage(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip through %s:\n%+v\n%+v (%v)", again, m, m2, err)
		}
	})
}

// FuzzParseOfficialAccountXML: arbitrary XML never panics; accepted messages have a
// consumer and a dedup id, and parsing is stable: the fields read, written back
// as XML, parse to the same message.
func FuzzParseOfficialAccountXML(f *testing.F) {
	f.Add(oaText)
	f.Add(`<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_emp1</EventKey></xml>`)
	f.Add(`<xml><FromUserName>o</FromUserName><MsgType>location</MsgType><Location_X>x</Location_X></xml>`)
	// WeChat's documented examples (Official Account message and event pushes).
	f.Add("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[this is a url]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId></xml>")
	f.Add("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId></xml>")
	f.Add("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>")
	f.Add("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType><![CDATA[link]]></MsgType><Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[url]]></Url><MsgId>1234567890123456</MsgId></xml>")
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseOfficialAccountXML([]byte(raw))
		if err != nil {
			return
		}
		if m.Consumer == "" || m.MsgID == "" || m.Source != SourceOfficialAccount {
			t.Fatalf("accepted without consumer or id: %+v", m)
		}
		var x oaXML
		if err := xml.Unmarshal([]byte(raw), &x); err != nil {
			t.Fatal(err)
		}
		again, err := xml.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseOfficialAccountXML(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip through %s:\n%+v\n%+v (%v)", again, m, m2, err)
		}
	})
}
