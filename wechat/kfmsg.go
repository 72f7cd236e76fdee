package wechat

import (
	"encoding/json"
	"fmt"
	"time"
)

// kfMsg is one entry of kf/sync_msg's msg_list, field names as WeCom documents them.
type kfMsg struct {
	MsgID          string `json:"msgid"`
	OpenKfID       string `json:"open_kfid"`
	ExternalUserID string `json:"external_userid"`
	SendTime       int64  `json:"send_time"`
	Origin         int    `json:"origin"`
	ServicerUserID string `json:"servicer_userid"`
	MsgType        string `json:"msgtype"`
	Text           *struct {
		Content string `json:"content"`
		MenuID  string `json:"menu_id"`
	} `json:"text,omitempty"`
	Image    *kfMedia `json:"image,omitempty"`
	Voice    *kfMedia `json:"voice,omitempty"`
	Video    *kfMedia `json:"video,omitempty"`
	File     *kfMedia `json:"file,omitempty"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location,omitempty"`
	Link *struct {
		Title  string `json:"title"`
		Desc   string `json:"desc"`
		URL    string `json:"url"`
		PicURL string `json:"pic_url"`
	} `json:"link,omitempty"`
	MiniProgram *struct {
		Title        string `json:"title"`
		AppID        string `json:"appid"`
		PagePath     string `json:"pagepath"`
		ThumbMediaID string `json:"thumb_media_id"`
	} `json:"miniprogram,omitempty"`
	Event *kfEvent `json:"event,omitempty"`
}

type kfMedia struct {
	MediaID string `json:"media_id"`
}

type kfEvent struct {
	EventType         string `json:"event_type"`
	OpenKfID          string `json:"open_kfid"`
	ExternalUserID    string `json:"external_userid"`
	Scene             string `json:"scene"`
	SceneParam        string `json:"scene_param"`
	WelcomeCode       string `json:"welcome_code"`
	FailMsgID         string `json:"fail_msgid"`
	FailType          int    `json:"fail_type"`
	ChangeType        int    `json:"change_type"`
	OldServicerUserID string `json:"old_servicer_userid"`
	NewServicerUserID string `json:"new_servicer_userid"`
	MsgCode           string `json:"msg_code"`
}

// ParseKfMessage maps one raw msg_list entry to a Message. Unknown kinds map to
// KindUnknown rather than an error so one odd message never blocks a cursor.
func ParseKfMessage(raw []byte) (Message, error) {
	var km kfMsg
	if err := json.Unmarshal(raw, &km); err != nil {
		return Message{}, fmt.Errorf("wechat: kf message: %w", err)
	}
	return km.normalize(), nil
}

// maxUnix is the last second encoding/json can write: 9999-12-31T23:59:59Z.
const maxUnix = 253402300799

// sentAt is a send_time or CreateTime as a time. A value that names no time
// (0 or less, or past the year 9999) is the zero time, which the bridge reads
// as "now": as it came, it could not be stored, and the pull job of the page
// it came in would fail on it for ever (FuzzSyncMsgPage found this).
func sentAt(unix int64) time.Time {
	if unix <= 0 || unix > maxUnix {
		return time.Time{}
	}
	return time.Unix(unix, 0).UTC()
}

func (km kfMsg) normalize() Message {
	m := Message{
		MsgID:    km.MsgID,
		Source:   SourceKf,
		Account:  km.OpenKfID,
		Consumer: km.ExternalUserID,
		Servicer: km.ServicerUserID,
		Origin:   Origin(km.Origin),
		SendTime: sentAt(km.SendTime),
		Kind:     KindUnknown,
		RawType:  km.MsgType,
	}
	media := func(k Kind, x *kfMedia) {
		if x != nil {
			m.Kind, m.MediaID = k, x.MediaID
		}
	}
	switch km.MsgType {
	case "text":
		if km.Text != nil {
			m.Kind, m.Text, m.MenuID = KindText, km.Text.Content, km.Text.MenuID
		}
	case "image":
		media(KindImage, km.Image)
	case "voice":
		media(KindVoice, km.Voice)
	case "video":
		media(KindVideo, km.Video)
	case "file":
		media(KindFile, km.File)
	case "location":
		if l := km.Location; l != nil {
			m.Kind = KindLocation
			m.Location = &Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
		}
	case "link":
		if l := km.Link; l != nil {
			m.Kind = KindLink
			m.Link = &Link{Title: l.Title, Description: l.Desc, URL: l.URL, PicURL: l.PicURL}
		}
	case "miniprogram":
		if p := km.MiniProgram; p != nil {
			m.Kind, m.MediaID = KindMiniProgram, p.ThumbMediaID
			m.MiniProgram = &MiniProgram{Title: p.Title, AppID: p.AppID, PagePath: p.PagePath, ThumbMediaID: p.ThumbMediaID}
		}
	case "event":
		if e := km.Event; e != nil {
			m.normalizeKfEvent(e)
		}
	}
	return m
}

func (m *Message) normalizeKfEvent(e *kfEvent) {
	m.RawType = "event/" + e.EventType
	// Events put the account and consumer inside the event object.
	if e.OpenKfID != "" {
		m.Account = e.OpenKfID
	}
	if e.ExternalUserID != "" {
		m.Consumer = e.ExternalUserID
	}
	switch e.EventType {
	case "enter_session":
		m.Kind, m.Scene, m.SceneParam, m.WelcomeCode = KindEnterSession, e.Scene, e.SceneParam, e.WelcomeCode
	case "msg_send_fail":
		m.Kind, m.FailMsgID, m.FailType = KindSendFailed, e.FailMsgID, e.FailType
	case "session_status_change":
		m.Kind, m.ChangeType, m.MsgCode = KindSessionStatusChange, e.ChangeType, e.MsgCode
		m.OldServicer, m.NewServicer = e.OldServicerUserID, e.NewServicerUserID
	}
}
