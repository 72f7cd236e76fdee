package wechat

import (
	"testing"
	"time"
)

// Samples shaped like WeCom's kf/sync_msg documentation.
var kfSamples = map[string]string{
	"text":        `{"msgid":"m1","open_kfid":"wk1","external_userid":"wm1","send_time":1700000000,"origin":3,"msgtype":"text","text":{"content":"hello","menu_id":"101"}}`,
	"image":       `{"msgid":"m2","open_kfid":"wk1","external_userid":"wm1","send_time":1700000000,"origin":3,"msgtype":"image","image":{"media_id":"MEDIA1"}}`,
	"voice":       `{"msgid":"m3","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"voice","voice":{"media_id":"V1"}}`,
	"video":       `{"msgid":"m4","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"video","video":{"media_id":"VID1"}}`,
	"file":        `{"msgid":"m5","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"file","file":{"media_id":"F1"}}`,
	"location":    `{"msgid":"m6","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"location","location":{"latitude":23.1,"longitude":113.3,"name":"Canton Tower","address":"Guangzhou"}}`,
	"link":        `{"msgid":"m7","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"link","link":{"title":"T","desc":"D","url":"https://example.com","pic_url":"https://example.com/p.png"}}`,
	"miniprogram": `{"msgid":"m8","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"miniprogram","miniprogram":{"title":"Shop","appid":"wxapp","pagepath":"pages/index","thumb_media_id":"TH1"}}`,
	"enter":       `{"msgid":"m9","send_time":1,"origin":4,"msgtype":"event","event":{"event_type":"enter_session","open_kfid":"wk1","external_userid":"wm1","scene":"emp-7","scene_param":"optin%2042","welcome_code":"WC1"}}`,
	"fail":        `{"msgid":"m10","send_time":1,"origin":4,"msgtype":"event","event":{"event_type":"msg_send_fail","open_kfid":"wk1","external_userid":"wm1","fail_msgid":"ours-1","fail_type":6}}`,
	"status":      `{"msgid":"m11","send_time":1,"origin":4,"msgtype":"event","event":{"event_type":"session_status_change","open_kfid":"wk1","external_userid":"wm1","change_type":3,"old_servicer_userid":"zhangsan","msg_code":"MC1"}}`,
	"servicer":    `{"msgid":"m12","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":5,"servicer_userid":"lisi","msgtype":"text","text":{"content":"from wecom"}}`,
	"unknown":     `{"msgid":"m13","open_kfid":"wk1","external_userid":"wm1","send_time":1,"origin":3,"msgtype":"channels_shop_product","channels_shop_product":{}}`,
}

func TestParseKfMessageKinds(t *testing.T) {
	tests := []struct {
		sample string
		check  func(Message) bool
	}{
		{"text", func(m Message) bool {
			return m.Kind == KindText && m.Text == "hello" && m.MenuID == "101" && m.Origin == OriginConsumer &&
				m.Consumer == "wm1" && m.Account == "wk1" && m.SendTime.Equal(time.Unix(1700000000, 0)) && m.Source == SourceKf
		}},
		{"image", func(m Message) bool { return m.Kind == KindImage && m.MediaID == "MEDIA1" }},
		{"voice", func(m Message) bool { return m.Kind == KindVoice && m.MediaID == "V1" }},
		{"video", func(m Message) bool { return m.Kind == KindVideo && m.MediaID == "VID1" }},
		{"file", func(m Message) bool { return m.Kind == KindFile && m.MediaID == "F1" }},
		{"location", func(m Message) bool {
			return m.Kind == KindLocation && m.Location.Latitude == 23.1 && m.Location.Name == "Canton Tower"
		}},
		{"link", func(m Message) bool {
			return m.Kind == KindLink && m.Link.URL == "https://example.com" && m.Link.Description == "D"
		}},
		{"miniprogram", func(m Message) bool {
			return m.Kind == KindMiniProgram && m.MiniProgram.AppID == "wxapp" && m.MediaID == "TH1"
		}},
		{"enter", func(m Message) bool {
			return m.Kind == KindEnterSession && m.Scene == "emp-7" && m.SceneParam == "optin%2042" && m.WelcomeCode == "WC1" &&
				m.Consumer == "wm1" && m.Account == "wk1" && m.Origin == OriginSystem
		}},
		{"fail", func(m Message) bool {
			return m.Kind == KindSendFailed && m.FailMsgID == "ours-1" && m.FailType == FailTypeOverLimit
		}},
		{"status", func(m Message) bool {
			return m.Kind == KindSessionStatusChange && m.ChangeType == 3 && m.OldServicer == "zhangsan" && m.MsgCode == "MC1"
		}},
		{"servicer", func(m Message) bool { return m.Origin == OriginServicer && m.Servicer == "lisi" }},
		{"unknown", func(m Message) bool { return m.Kind == KindUnknown && m.RawType == "channels_shop_product" }},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			m, err := ParseKfMessage([]byte(kfSamples[tt.sample]))
			if err != nil || !tt.check(m) {
				t.Fatalf("%+v %v", m, err)
			}
		})
	}
	if _, err := ParseKfMessage([]byte("{")); err == nil {
		t.Fatal("want error for broken JSON")
	}
}

func TestParseOfficialAccountKinds(t *testing.T) {
	wrap := func(inner string) []byte {
		return []byte("<xml><ToUserName>gh_1</ToUserName><FromUserName>oU</FromUserName><CreateTime>1700000000</CreateTime>" + inner + "</xml>")
	}
	tests := []struct {
		name  string
		in    string
		check func(Message) bool
	}{
		{"image", "<MsgType>image</MsgType><PicUrl>http://p</PicUrl><MediaId>M</MediaId><MsgId>1</MsgId>",
			func(m Message) bool { return m.Kind == KindImage && m.MediaID == "M" && m.PicURL == "http://p" }},
		{"voice", "<MsgType>voice</MsgType><MediaId>M</MediaId><Format>amr</Format><MsgId>2</MsgId>",
			func(m Message) bool { return m.Kind == KindVoice && m.Format == "amr" }},
		{"video", "<MsgType>video</MsgType><MediaId>M</MediaId><ThumbMediaId>T</ThumbMediaId><MsgId>3</MsgId>",
			func(m Message) bool { return m.Kind == KindVideo && m.MediaID == "M" }},
		{"location", "<MsgType>location</MsgType><Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Scale>20</Scale><Label>Tower</Label><MsgId>4</MsgId>",
			func(m Message) bool {
				return m.Kind == KindLocation && m.Location.Longitude == 113.3 && m.Location.Name == "Tower"
			}},
		{"link", "<MsgType>link</MsgType><Title>T</Title><Description>D</Description><Url>http://u</Url><MsgId>5</MsgId>",
			func(m Message) bool { return m.Kind == KindLink && m.Link.URL == "http://u" }},
		{"subscribe via QR", "<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_emp-1</EventKey><Ticket>TK</Ticket>",
			func(m Message) bool {
				return m.Kind == KindSubscribe && m.Scene == "emp-1" && m.Ticket == "TK" && m.MsgID == "evt-oU-1700000000-subscribe"
			}},
		{"plain subscribe", "<MsgType>event</MsgType><Event>subscribe</Event>",
			func(m Message) bool { return m.Kind == KindSubscribe && m.Scene == "" }},
		{"scan", "<MsgType>event</MsgType><Event>SCAN</Event><EventKey>optin-9</EventKey>",
			func(m Message) bool { return m.Kind == KindScan && m.Scene == "optin-9" }},
		{"unsubscribe", "<MsgType>event</MsgType><Event>unsubscribe</Event>",
			func(m Message) bool { return m.Kind == KindUnsubscribe }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseOfficialAccountXML(wrap(tt.in))
			if err != nil || !tt.check(m) || m.Consumer != "oU" || m.Account != "gh_1" {
				t.Fatalf("%+v %v", m, err)
			}
		})
	}
}

// A send_time or CreateTime that names no time is the zero time ("now" to the
// bridge), so that the message can be stored (FuzzSyncMsgPage).
func TestSendTimeOutOfRange(t *testing.T) {
	for _, v := range []string{"0", "-1", "1000000000000", "253402300800"} {
		m, err := ParseKfMessage([]byte(`{"msgid":"m","send_time":` + v + `,"msgtype":"text","text":{"content":"x"}}`))
		if err != nil || !m.SendTime.IsZero() {
			t.Errorf("kf send_time %s: %v, %v", v, m.SendTime, err)
		}
		m, err = ParseOfficialAccountXML([]byte(`<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><CreateTime>` + v + `</CreateTime></xml>`))
		if err != nil || !m.SendTime.IsZero() {
			t.Errorf("CreateTime %s: %v, %v", v, m.SendTime, err)
		}
	}
	if m, _ := ParseKfMessage([]byte(`{"send_time":253402300799,"msgtype":"text"}`)); !m.SendTime.Equal(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("the last second: %v", m.SendTime)
	}
}
