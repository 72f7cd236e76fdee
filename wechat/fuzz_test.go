package wechat

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

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

// FuzzKfCallback: arbitrary inner plaintext, properly sealed, never panics the
// handler; it answers 200 or a 4xx, never 5xx (the sink here never fails).
func FuzzKfCallback(f *testing.F) {
	f.Add(kfInner("T"))
	f.Add("<xml>")
	f.Add("<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>x</Token></xml>")
	f.Add("")
	now := time.Unix(1700000000, 0)
	c, _ := NewCipher(vecToken, vecAESKey, testCorp)
	f.Fuzz(func(t *testing.T, inner string) {
		ts := strconv.FormatInt(now.Unix(), 10)
		body, sig, err := c.Seal([]byte(inner), ts, "1")
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {"1"}}
		rec := do(newKfHandler(t, &memSink{}, now), http.MethodPost, "/wechat/callback?"+q.Encode(), string(body))
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// FuzzParseKfMessage: arbitrary JSON never panics and always yields a Kind.
func FuzzParseKfMessage(f *testing.F) {
	for _, s := range kfSamples {
		f.Add(s)
	}
	f.Add(`{"msgtype":"event","event":null}`)
	f.Add(`{"msgtype":"text","text":null}`)
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseKfMessage([]byte(raw))
		if err == nil && m.Kind == "" {
			t.Fatal("empty kind")
		}
	})
}

// FuzzParseOfficialAccountXML: arbitrary XML never panics; accepted messages have a
// consumer and a dedup id.
func FuzzParseOfficialAccountXML(f *testing.F) {
	f.Add(oaText)
	f.Add(`<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_emp1</EventKey></xml>`)
	f.Add(`<xml><FromUserName>o</FromUserName><MsgType>location</MsgType><Location_X>x</Location_X></xml>`)
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseOfficialAccountXML([]byte(raw))
		if err == nil && (m.Consumer == "" || m.MsgID == "") {
			t.Fatalf("accepted without consumer or id: %+v", m)
		}
	})
}
