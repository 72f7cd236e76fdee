package wechat

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// envelope is the outer XML of an encrypted callback (WeCom and OA safe mode).
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID,omitempty"`
	Encrypt    string   `xml:"Encrypt"`
}

// kfCallback is the decrypted WeCom kf callback: a "pull now" notice without content.
type kfCallback struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	CreateTime int64    `xml:"CreateTime"`
	MsgType    string   `xml:"MsgType"`
	Event      string   `xml:"Event"`
	Token      string   `xml:"Token"`
	OpenKfID   string   `xml:"OpenKfId"`
}

// oaXML is an Official Account message or event, field names as WeChat documents them.
type oaXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	MsgID        string   `xml:"MsgId"`
	Content      string   `xml:"Content"`
	PicURL       string   `xml:"PicUrl"`
	MediaID      string   `xml:"MediaId"`
	Format       string   `xml:"Format"`
	ThumbMediaID string   `xml:"ThumbMediaId"`
	LocationX    float64  `xml:"Location_X"`
	LocationY    float64  `xml:"Location_Y"`
	Scale        int      `xml:"Scale"`
	Label        string   `xml:"Label"`
	Title        string   `xml:"Title"`
	Description  string   `xml:"Description"`
	URL          string   `xml:"Url"`
	Event        string   `xml:"Event"`
	EventKey     string   `xml:"EventKey"`
	Ticket       string   `xml:"Ticket"`
}

// ParseOfficialAccountXML maps a plaintext Official Account callback body to a Message.
func ParseOfficialAccountXML(body []byte) (Message, error) {
	var x oaXML
	if err := xml.Unmarshal(body, &x); err != nil {
		return Message{}, fmt.Errorf("wechat: official account xml: %w", err)
	}
	if x.FromUserName == "" || x.MsgType == "" {
		return Message{}, fmt.Errorf("wechat: official account xml: missing FromUserName or MsgType")
	}
	m := Message{
		MsgID:    x.MsgID,
		Source:   SourceOfficialAccount,
		Account:  x.ToUserName,
		Consumer: x.FromUserName,
		Origin:   OriginConsumer,
		SendTime: sentAt(x.CreateTime),
		Kind:     KindUnknown,
		RawType:  x.MsgType,
	}
	switch x.MsgType {
	case "text":
		m.Kind, m.Text = KindText, x.Content
	case "image":
		m.Kind, m.MediaID, m.PicURL = KindImage, x.MediaID, x.PicURL
	case "voice":
		m.Kind, m.MediaID, m.Format = KindVoice, x.MediaID, x.Format
	case "video", "shortvideo":
		m.Kind, m.MediaID = KindVideo, x.MediaID
	case "location":
		m.Kind = KindLocation
		m.Location = &Location{Latitude: x.LocationX, Longitude: x.LocationY, Scale: x.Scale, Name: x.Label}
	case "link":
		m.Kind = KindLink
		m.Link = &Link{Title: x.Title, Description: x.Description, URL: x.URL}
	case "event":
		m.RawType = "event/" + x.Event
		m.Ticket = x.Ticket
		switch strings.ToLower(x.Event) {
		case "subscribe":
			// A subscribe through a parametric QR code carries EventKey "qrscene_<scene>".
			m.Kind, m.Scene = KindSubscribe, strings.TrimPrefix(x.EventKey, "qrscene_")
		case "scan":
			m.Kind, m.Scene = KindScan, x.EventKey
		case "unsubscribe":
			m.Kind = KindUnsubscribe
		}
	}
	if m.MsgID == "" {
		// Events have no MsgId; WeChat recommends FromUserName+CreateTime for dedup.
		m.MsgID = "evt-" + x.FromUserName + "-" + strconv.FormatInt(x.CreateTime, 10) + "-" + strings.ToLower(x.Event)
	}
	return m, nil
}
