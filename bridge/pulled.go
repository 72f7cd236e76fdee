package bridge

import (
	"context"
	"fmt"
)

// pulledJob is one consumer's messages of a sync_msg page, in page order.
type pulledJob struct {
	Account  string     `json:"account"`
	Consumer ConsumerID `json:"consumer"`
	Messages []Inbound  `json:"messages"`
}

// enqueuePulled deduplicates a pulled page by msgid and queues what is new as
// one JobApplyPulled per consumer, in the order the consumers first appear.
// What concerns no consumer (a send failure names our message, not them) is
// applied here, in the pull's transaction: it is rare and touches one thread.
func (s *Service) enqueuePulled(ctx context.Context, tx Tx, account string, page []Inbound) error {
	var order []ConsumerID
	byConsumer := map[ConsumerID][]Inbound{}
	var rest []Inbound
	for _, in := range page {
		if in.WeChatMsgID != "" {
			fresh, err := tx.MarkInbound(ctx, s.company, in.WeChatMsgID)
			if err != nil {
				return err
			}
			if !fresh {
				continue
			}
		}
		if in.Consumer == "" {
			rest = append(rest, in)
			continue
		}
		if _, ok := byConsumer[in.Consumer]; !ok {
			order = append(order, in.Consumer)
			// What WeChat said about them is kept now, not when their job runs:
			// the next page must not ask about them again.
			if !in.ProfiledAt.IsZero() {
				if _, err := s.saveConsumer(ctx, tx, in, ""); err != nil {
					return err
				}
			}
		}
		byConsumer[in.Consumer] = append(byConsumer[in.Consumer], in)
	}
	now := s.now()
	for _, c := range order {
		if err := s.enqueue(ctx, tx, consumerLane(c), JobApplyPulled,
			pulledJob{Account: account, Consumer: c, Messages: byConsumer[c]}, now); err != nil {
			return err
		}
	}
	if len(rest) == 0 {
		return nil
	}
	co, err := tx.Company(ctx, s.company)
	if err != nil {
		return err
	}
	return s.applyInbound(ctx, tx, co, rest)
}

// runApplyPulled applies one consumer's pulled messages and completes the job in
// one transaction.
func (s *Service) runApplyPulled(ctx context.Context, j Job) error {
	p, err := decode[pulledJob](j)
	if err != nil {
		return Permanent(err)
	}
	return s.tx(ctx, func(tx Tx) error {
		c, err := tx.Company(ctx, s.company)
		if err != nil {
			return err
		}
		if err := s.applyInbound(ctx, tx, c, p.Messages); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j.ID)
	})
}

// applyInbound applies inbounds already deduplicated, in order.
func (s *Service) applyInbound(ctx context.Context, tx Tx, c Company, batch []Inbound) error {
	for _, in := range batch {
		if err := s.receiveOne(ctx, tx, c, in); err != nil {
			return fmt.Errorf("bridge: inbound %s %s: %w", in.Kind, in.WeChatMsgID, err)
		}
	}
	return nil
}
