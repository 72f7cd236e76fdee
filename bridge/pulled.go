package bridge

import (
	"context"
	"hash/fnv"
	"strconv"
)

// pulledShards is how many lanes a WeCom kf account's pulled pages are applied
// on. A consumer always hashes to the same lane, so their messages keep their
// order; four lanes let the inbound pool's four workers apply a page side by
// side, in a handful of jobs (a job per consumer cost a claim per consumer,
// and claims, not the work, then set the pace).
const pulledShards = 4

// pulledChunk is how many messages of a pulled job one transaction applies: the
// first consumers' welcomes go out while the rest is applied, and no
// transaction holds hundreds of threads.
const pulledChunk = 100

// pulledJob is the messages of a sync_msg page that hash to one lane, in page
// order.
type pulledJob struct {
	Account  string    `json:"account"`
	Messages []Inbound `json:"messages"`
}

func pulledLane(account string, shard int) string {
	return "pulled:" + account + ":" + strconv.Itoa(shard)
}

func pulledShard(c ConsumerID) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(c))
	return int(h.Sum32() % pulledShards)
}

// enqueuePulled queues a pulled page for applying, as at most pulledShards
// jobs. What WeChat said about a consumer (their profile) is kept now, not when
// the job runs, so that the next page does not ask about them again.
func (s *Service) enqueuePulled(ctx context.Context, tx Tx, account string, page []Inbound) error {
	var shards [pulledShards][]Inbound
	profiled := map[ConsumerID]bool{}
	for _, in := range page {
		n := pulledShard(in.Consumer)
		shards[n] = append(shards[n], in)
		if in.Consumer != "" && !in.ProfiledAt.IsZero() && !profiled[in.Consumer] {
			profiled[in.Consumer] = true
			if _, err := s.saveConsumer(ctx, tx, in, ""); err != nil {
				return err
			}
		}
	}
	now := s.now()
	for n, msgs := range shards {
		if len(msgs) == 0 {
			continue
		}
		if err := s.enqueue(ctx, tx, pulledLane(account, n), JobApplyPulled, pulledJob{Account: account, Messages: msgs}, now); err != nil {
			return err
		}
	}
	return nil
}

// runApplyPulled applies a pulled job's messages in chunks of pulledChunk, each
// deduplicated by msgid in its own transaction; the last one completes the job.
// A crash in between runs the job again, and the chunks already applied add
// nothing.
func (s *Service) runApplyPulled(ctx context.Context, j Job) error {
	p, err := decode[pulledJob](j)
	if err != nil {
		return Permanent(err)
	}
	msgs := p.Messages
	for first := true; first || len(msgs) > 0; first = false {
		chunk := msgs[:min(len(msgs), pulledChunk)]
		msgs = msgs[len(chunk):]
		last := len(msgs) == 0
		if err := s.tx(ctx, func(tx Tx) error {
			if err := s.receive(ctx, tx, chunk); err != nil {
				return err
			}
			if last {
				return tx.CompleteJob(ctx, j.ID)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
