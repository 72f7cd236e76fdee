package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// errRollback makes a transaction roll back on purpose.
var errRollback = errors.New("roll back")

// runArchive: Tx.Archive seals drafts onto each chain's head as the
// transaction sees it (several drafts of one chain in one transaction too),
// a rolled-back append leaves nothing behind, ArchiveHeads lists the thread
// chains' heads, MediaInfo gives the stored media's SHA-256, HasJobs sees a
// lane's live jobs, and the record verifies through the backend's Reader.
func runArchive(t *testing.T, f Factory) {
	s := f(t)()
	r, ok := s.(archive.Reader)
	if !ok {
		t.Fatalf("%T is no archive.Reader", s)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	draft := func(thread, text string) archive.Draft {
		kind := archive.KindMessageIn
		if thread == archive.CompanyThread {
			kind = archive.KindAdminChange
		}
		return archive.Draft{Company: "c1", Thread: thread, Time: at, Kind: kind, Body: map[string]string{"text": text}}
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		return tx.Archive(ctx, draft("T1", "one"), draft("T1", "two"), draft(archive.CompanyThread, "policy"), draft("T2", "one"))
	})
	err := s.Tx(context.Background(), func(tx bridge.Tx) error {
		if err := tx.Archive(context.Background(), draft("T1", "rolled back"), draft("T3", "rolled back")); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		if err := tx.Archive(ctx, draft("T1", "three")); err != nil {
			return err
		}
		heads, err := tx.ArchiveHeads(ctx, "c1")
		if err != nil {
			return err
		}
		seqs := map[string]int64{}
		for _, h := range heads {
			seqs[h.Thread] = h.Seq
		}
		if len(heads) != 2 || seqs["T1"] != 3 || seqs["T2"] != 1 {
			t.Errorf("heads %+v, want T1 at 3 and T2 at 1", heads)
		}
		return tx.Archive(ctx, archive.NewAnchor("c1", at, at.Add(time.Hour), heads))
	})
	rep, err := archive.Verify(context.Background(), r)
	if err != nil || !rep.OK() || rep.Chains != 3 || rep.Events != 6 || rep.Anchors != 1 {
		t.Fatalf("verify: %+v %v", rep, err)
	}

	data := []byte("media bytes")
	ref, err := s.PutMedia(context.Background(), "c1", "image/png", "a.png", data)
	if err != nil {
		t.Fatal(err)
	}
	tx(t, s, func(ctx context.Context, tx bridge.Tx) error {
		m, err := tx.MediaInfo(ctx, ref)
		if err != nil {
			return err
		}
		if m.SHA256 != archive.Sum(data) || m.Size != int64(len(data)) || m.ContentType != "image/png" || m.FileName != "a.png" {
			t.Errorf("media info %+v", m)
		}
		if _, err := tx.MediaInfo(ctx, "nope"); !errors.Is(err, bridge.ErrNotFound) {
			t.Errorf("unknown media: %v", err)
		}
		has, err := tx.HasJobs(ctx, "lane:a")
		if err != nil || has {
			t.Errorf("empty lane has jobs: %v %v", has, err)
		}
		if err := tx.Enqueue(ctx, bridge.Job{Lane: "lane:a", Kind: "k", RunAt: at.Add(24 * time.Hour)}); err != nil {
			return err
		}
		has, err = tx.HasJobs(ctx, "lane:a")
		if err != nil || !has {
			t.Errorf("lane with a job: %v %v", has, err)
		}
		return nil
	})
}
