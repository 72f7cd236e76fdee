package bridge

import (
	"context"
	"time"
)

// ProfileMaxAge is how long what WeChat said about a consumer (name, avatar,
// language) is trusted: a consumer whose profile is older is asked about again
// when they next write, so a changed nickname shows within a day.
const ProfileMaxAge = 24 * time.Hour

// withProfiles fills in, on the inbounds of a page, what WeChat tells about
// the consumers who are new to the company or whose profile is older than
// ProfileMaxAge: one read of the store for the whole page and one call to the
// WeChat side, which batches as WeChat allows (kf customer/batchget takes 100).
// It runs outside any transaction, before the page is applied. A failure to
// ask is logged and the page goes on without names: the messages matter more.
func (s *Service) withProfiles(ctx context.Context, account string, page []Inbound) error {
	seen := map[ConsumerID]bool{}
	var ids []ConsumerID
	for _, in := range page {
		if (in.Kind == InboundMessage || in.Kind == InboundArrived) && in.Consumer != "" && !seen[in.Consumer] {
			seen[in.Consumer] = true
			ids = append(ids, in.Consumer)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.now()
	var known map[ConsumerID]Consumer
	if err := s.store.Tx(ctx, func(tx Tx) (err error) {
		known, err = tx.ConsumersByID(ctx, s.company, ids)
		return err
	}); err != nil {
		return err
	}
	stale := ids[:0]
	for _, id := range ids {
		if c, ok := known[id]; !ok || now.Sub(c.ProfiledAt) >= ProfileMaxAge {
			stale = append(stale, id)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	profiles, err := s.wechat.Profiles(ctx, account, stale)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("consumer profiles", "consumers", len(stale), "err", err)
		return nil
	}
	for i := range page {
		in := &page[i]
		p, ok := profiles[in.Consumer]
		if !ok || in.Kind != InboundMessage && in.Kind != InboundArrived {
			continue
		}
		if in.ConsumerName == "" {
			in.ConsumerName = p.Name
		}
		if in.Language == "" {
			in.Language = p.Language
		}
		in.AvatarURL, in.ProfiledAt = p.AvatarURL, now
	}
	return nil
}
