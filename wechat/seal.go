package wechat

import (
	"encoding/xml"
	"fmt"
)

// Seal encrypts plain and wraps it the way WeChat posts callbacks: an XML envelope
// with ToUserName and Encrypt, plus the msg_signature for the query string. The fake
// server uses it to call our endpoint; it is also the shape of an encrypted reply.
func (c *Cipher) Seal(plain []byte, timestamp, nonce string) (body []byte, msgSignature string, err error) {
	enc, err := c.Encrypt(plain)
	if err != nil {
		return nil, "", err
	}
	body, err = xml.Marshal(envelope{ToUserName: c.receiveID, Encrypt: enc})
	if err != nil {
		return nil, "", fmt.Errorf("wechat: seal: %w", err)
	}
	return body, c.Sign(timestamp, nonce, enc), nil
}
