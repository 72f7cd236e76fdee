package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// OpenKfIDSetting is the setting that names the company's kf account. Errors of
// ResolveOpenKfID name it, so that an operator knows what to set.
const OpenKfIDSetting = "WECOM_OPEN_KFID"

// MaxAccountPage is kf/account/list's largest page (limit 1..100).
const MaxAccountPage = 100

// maxAccountPages bounds ListAccounts: WeCom lets a corp have 10 kf accounts
// today, so 100 pages (10,000 accounts) is far past any real list.
const maxAccountPages = 100

// KfAccount is one WeChat Customer Service account of the corp (kf/account/list).
type KfAccount struct {
	OpenKfID string
	Name     string
	Avatar   string
	// Manageable says this app may send and manage sessions on the account
	// (manage_privilege; WeCom leaves it out for component apps, read as true).
	Manageable bool
}

// ListAccountsPage reads one page of kf/account/list: at most limit (1..100)
// accounts from offset (0-based).
func (k *KfClient) ListAccountsPage(ctx context.Context, offset, limit int) ([]KfAccount, error) {
	if offset < 0 || limit < 1 || limit > MaxAccountPage {
		return nil, fmt.Errorf("wechat: kf/account/list: offset %d, limit %d out of range: %w (%w)", offset, limit, ErrInvalidRequest, ErrPermanent)
	}
	var out struct {
		AccountList []struct {
			OpenKfID        string `json:"open_kfid"`
			Name            string `json:"name"`
			Avatar          string `json:"avatar"`
			ManagePrivilege *bool  `json:"manage_privilege"`
		} `json:"account_list"`
	}
	in := map[string]int{"offset": offset, "limit": limit}
	if err := k.core.call(ctx, "kf/account/list", http.MethodPost, "/cgi-bin/kf/account/list", nil, in, &out); err != nil {
		return nil, err
	}
	list := make([]KfAccount, 0, len(out.AccountList))
	for _, a := range out.AccountList {
		list = append(list, KfAccount{OpenKfID: a.OpenKfID, Name: a.Name, Avatar: a.Avatar, Manageable: a.ManagePrivilege == nil || *a.ManagePrivilege})
	}
	return list, nil
}

// ListAccounts reads every kf account of the corp, page by page, stopping at the
// first page shorter than the limit, as WeCom documents.
//
// An answer that never comes back short would keep start-up in this loop for
// ever, so the list ends with an error (a *TransportError: the answer is not
// usable) when a page repeats an account of an earlier page (the offset was
// ignored), or past maxAccountPages.
func (k *KfClient) ListAccounts(ctx context.Context) ([]KfAccount, error) {
	var all []KfAccount
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n == maxAccountPages {
			return nil, &TransportError{Op: "kf/account/list", Status: http.StatusOK,
				Err: fmt.Errorf("more than %d accounts: the pages do not end", maxAccountPages*MaxAccountPage)}
		}
		page, err := k.ListAccountsPage(ctx, n*MaxAccountPage, MaxAccountPage)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			if seen[a.OpenKfID] {
				return nil, &TransportError{Op: "kf/account/list", Status: http.StatusOK,
					Err: fmt.Errorf("page %d repeats account %s of an earlier page: the offset was ignored", n+1, a.OpenKfID)}
			}
		}
		for _, a := range page {
			seen[a.OpenKfID] = true
		}
		all = append(all, page...)
		if len(page) < MaxAccountPage {
			return all, nil
		}
	}
}

// KfAccountLister lists the corp's kf accounts (implemented by *KfClient); the
// resolver takes the interface so that start-up can be tested without WeCom.
type KfAccountLister interface {
	ListAccounts(ctx context.Context) ([]KfAccount, error)
}

// Errors of ResolveOpenKfID, each wrapped with a message that names
// OpenKfIDSetting and says what to do.
var (
	// ErrKfAccountUnknown: the configured open_kfid is not one of the corp's accounts.
	ErrKfAccountUnknown = errors.New("wechat: the configured kf account does not exist")
	// ErrKfAccountNone: the setting is empty and the corp has no kf account.
	ErrKfAccountNone = errors.New("wechat: no kf account to use")
	// ErrKfAccountAmbiguous: the setting is empty and the corp has several accounts.
	ErrKfAccountAmbiguous = errors.New("wechat: several kf accounts, none chosen")
)

// ResolveOpenKfID decides, at start-up, which kf account the service uses for
// contact links, opt-in links, sends and session changes: the configured one
// (checked against kf/account/list), or, when nothing is configured, the corp's
// only account (or the only one this app may manage). Several accounts, none, or
// a configured one that does not exist
// stop start-up with an error that names WECOM_OPEN_KFID. When the list cannot be
// read for a passing reason (WeCom unreachable) a configured account is used
// unchecked, with a warning on log (nil means slog.Default()).
func ResolveOpenKfID(ctx context.Context, l KfAccountLister, configured string, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.Default()
	}
	configured = strings.TrimSpace(configured)
	accounts, err := l.ListAccounts(ctx)
	if err != nil {
		if configured != "" && !errors.Is(err, ErrPermanent) {
			log.Warn("kf account not checked: kf/account/list failed; using "+OpenKfIDSetting+" as set", "open_kfid", configured, "err", err)
			return configured, nil
		}
		if configured != "" {
			return "", fmt.Errorf("%s=%s could not be checked with kf/account/list: %w", OpenKfIDSetting, configured, err)
		}
		return "", fmt.Errorf("%s is not set, and kf/account/list, which would find the account, failed: %w; set %s to the open_kfid of the WeChat Customer Service account", OpenKfIDSetting, err, OpenKfIDSetting)
	}
	if configured != "" {
		for _, a := range accounts {
			if a.OpenKfID != configured {
				continue
			}
			if !a.Manageable {
				log.Warn("this app has no management privilege on the kf account: sends will be refused until an admin grants it in the WeCom admin console", "open_kfid", configured)
			}
			return configured, nil
		}
		if len(accounts) == 0 {
			return "", fmt.Errorf("%s=%s: %w: the corp has no WeChat Customer Service account; create one in the WeCom admin console", OpenKfIDSetting, configured, ErrKfAccountUnknown)
		}
		return "", fmt.Errorf("%s=%s: %w: the corp's accounts are %s; set %s to one of them", OpenKfIDSetting, configured, ErrKfAccountUnknown, describeAccounts(accounts), OpenKfIDSetting)
	}
	var usable []KfAccount
	for _, a := range accounts {
		if a.Manageable {
			usable = append(usable, a)
		}
	}
	switch {
	case len(usable) == 1:
		// Several accounts, but this app may manage only one: that one serves.
		return usable[0].OpenKfID, nil
	case len(accounts) == 1:
		log.Warn("this app has no management privilege on the corp's only kf account: sends will be refused until an admin grants it in the WeCom admin console", "open_kfid", accounts[0].OpenKfID)
		return accounts[0].OpenKfID, nil
	case len(accounts) > 1:
		return "", fmt.Errorf("%s is not set and the corp has %d WeChat Customer Service accounts: %w; set %s to one of %s", OpenKfIDSetting, len(accounts), ErrKfAccountAmbiguous, OpenKfIDSetting, describeAccounts(accounts))
	}
	return "", fmt.Errorf("%s is not set and the corp has no WeChat Customer Service account: %w; create one in the WeCom admin console, then set %s to its open_kfid or leave it unset", OpenKfIDSetting, ErrKfAccountNone, OpenKfIDSetting)
}

// describeAccounts lists accounts for an operator: open_kfid and name.
func describeAccounts(accounts []KfAccount) string {
	parts := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if a.Name != "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", a.OpenKfID, a.Name))
		} else {
			parts = append(parts, a.OpenKfID)
		}
	}
	return strings.Join(parts, ", ")
}
