package wechat

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// Tencent's public sample vector, quoted in the project design.
const (
	vecToken     = "QDG6eK"
	vecAESKey    = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	vecReceiveID = "wx5823bf96d3bd56c7"
	vecSig       = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	vecTimestamp = "1409659589"
	vecNonce     = "263014780"
	vecEchostr   = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	vecPlain     = "1616140317555161061"
)

func TestPublicVectorDesign(t *testing.T) {
	c, err := NewCipher(vecToken, vecAESKey, vecReceiveID)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(vecSig, vecTimestamp, vecNonce, vecEchostr); err != nil {
		t.Fatalf("verify: %v", err)
	}
	got, err := c.Decrypt(vecEchostr)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != vecPlain {
		t.Fatalf("decrypt = %q, want %q", got, vecPlain)
	}
}

// Independent vector: Tencent's Official Account Java SDK test (WXBizMsgCryptTest,
// fields encodingAesKey, appId, randomStr, replyMsg, afterAesEncrypt), as found in the
// public repository Wyl015/wuyiling, work-test/src/main/resources/Utils/aes/WXBizMsgCryptTest.java.
// A fixed random prefix makes the ciphertext a golden value for Encrypt.
func TestJavaSDKGoldenEncrypt(t *testing.T) {
	c, err := NewCipher("pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
	if err != nil {
		t.Fatal(err)
	}
	c.Rand = strings.NewReader("aaaabbbbccccdddd")
	got, err := c.Encrypt([]byte("我是中文abcd123"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
	if got != want {
		t.Fatalf("encrypt =\n%s\nwant\n%s", got, want)
	}
	plain, err := c.Decrypt(want)
	if err != nil || string(plain) != "我是中文abcd123" {
		t.Fatalf("decrypt = %q, %v", plain, err)
	}
}

// Independent vector: Tencent's Official Account Python sample (Sample.py of WXBizMsgCrypt,
// also used by the public test wegostudio/wego tests/crypto/tests.py): a signed,
// encrypted text message addressed to app id wx2c2769f8efd9abc2.
func TestPythonSampleDecrypt(t *testing.T) {
	c, err := NewCipher("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
	if err != nil {
		t.Fatal(err)
	}
	const enc = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	if err := c.Verify("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132", enc); err != nil {
		t.Fatalf("verify: %v", err)
	}
	plain, err := c.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	const want = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
	if string(plain) != want {
		t.Fatalf("plaintext = %q", plain)
	}
}

func TestCipherRejects(t *testing.T) {
	c, _ := NewCipher(vecToken, vecAESKey, vecReceiveID)
	other, _ := NewCipher(vecToken, vecAESKey, "wwSomeOtherCorp")
	foreign, _ := other.Encrypt([]byte("hello"))
	good, _ := c.Encrypt([]byte("hello"))
	raw, _ := base64.StdEncoding.DecodeString(good)
	truncated := base64.StdEncoding.EncodeToString(raw[:len(raw)-16])

	tests := []struct {
		name string
		in   string
		want error
	}{
		{"not base64", "%%%", ErrBadCiphertext},
		{"empty", "", ErrBadCiphertext},
		{"not block aligned", truncated, ErrBadCiphertext},
		{"random block", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64)), ErrBadCiphertext},
		{"other receive id", foreign, ErrReceiveIDMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Decrypt(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := c.Verify(strings.Repeat("0", 40), vecTimestamp, vecNonce, vecEchostr); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("verify wrong signature: %v", err)
	}
}

func TestNewCipherValidates(t *testing.T) {
	tests := []struct{ name, token, key, id string }{
		{"short key", "t", "abc", "id"},
		{"bad base64", "t", strings.Repeat("*", 43), "id"},
		{"no token", "", vecAESKey, "id"},
		{"no receive id", "t", vecAESKey, ""},
	}
	for _, tt := range tests {
		if _, err := NewCipher(tt.token, tt.key, tt.id); err == nil {
			t.Errorf("%s: want error", tt.name)
		}
	}
}

func TestUnpadStrict(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"pad 1", append(bytes.Repeat([]byte{'a'}, 31), 1), true},
		{"full block of 32", bytes.Repeat([]byte{32}, 32), true},
		{"pad 0", append(bytes.Repeat([]byte{'a'}, 31), 0), false},
		{"pad 33", append(bytes.Repeat([]byte{'a'}, 31), 33), false},
		{"inconsistent pad", append(bytes.Repeat([]byte{'a'}, 30), 1, 2), false},
	}
	for _, tt := range tests {
		_, err := unpad(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestRoundTripSizes(t *testing.T) {
	c, _ := NewCipher(vecToken, vecAESKey, vecReceiveID)
	for n := 0; n < 100; n++ {
		msg := bytes.Repeat([]byte("x"), n)
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("n=%d: %q %v", n, got, err)
		}
	}
}
