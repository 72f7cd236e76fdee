package fakewechat

import (
	"net/url"
	"sort"
	"strings"
)

// Link is a contact link or QR code the fake made (kf/add_contact_way,
// qrcode/create), so a page that plays consumers can offer to open it.
type Link struct {
	URL   string `json:"url"`
	Scene string `json:"scene"`
}

// Links lists the contact links and QR codes made so far, oldest first. A kf
// link is listed as add_contact_way returned it (without the scene_param a
// caller may have appended).
func (s *Server) Links() []Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Link, 0, len(s.links))
	for id, scene := range s.links {
		u := "https://work.weixin.qq.com/kf/" + id + "?enc_scene=" + url.QueryEscape(scene)
		if strings.HasPrefix(id, "q") {
			u = "http://weixin.qq.com/q/" + id
		}
		out = append(out, Link{URL: u, Scene: scene})
	}
	// ids are a prefix and a zero-padded sequence number
	sort.Slice(out, func(i, j int) bool { return seqOf(out[i].URL) < seqOf(out[j].URL) })
	return out
}

func seqOf(u string) string {
	p := u[strings.LastIndex(u, "/")+1:]
	p, _, _ = strings.Cut(p, "?")
	return strings.TrimLeft(p, "kfcq")
}
