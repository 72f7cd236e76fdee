package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// signingKey is one key of a JWKS with the channels it is endorsed for.
type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

// keySet fetches and caches the signing keys named by one OpenID metadata document.
// It is safe for concurrent use. Keys are refreshed when older than maxAge, and on
// a token with an unknown kid, at most once per minRefresh, so that a flood of
// forged tokens cannot turn into a flood of requests to the metadata host.
type keySet struct {
	metadataURL string
	client      *http.Client
	maxAge      time.Duration
	minRefresh  time.Duration
	now         func() time.Time

	mu         sync.RWMutex
	keys       map[string]signingKey
	fetchedAt  time.Time
	lastMissAt time.Time
	fetchMu    sync.Mutex // one fetch at a time
}

// lookup returns the key with this kid, fetching the keys first when they are
// missing or stale, or once (rate-limited) when the kid is unknown.
func (s *keySet) lookup(ctx context.Context, kid string) (signingKey, error) {
	s.mu.RLock()
	k, ok := s.keys[kid]
	fresh := s.keys != nil && s.now().Sub(s.fetchedAt) < s.maxAge
	s.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}
	if !fresh {
		if err := s.refresh(ctx, func() bool {
			return s.keys != nil && s.now().Sub(s.fetchedAt) < s.maxAge
		}); err != nil && !ok {
			return signingKey{}, err
		}
		// On a failed daily refresh we keep using the old keys: Microsoft rotates
		// with overlap, and refusing every request because its metadata host
		// hiccupped would be worse.
	} else {
		// A kid we do not know: maybe a rotation happened.
		s.mu.Lock()
		allowed := s.now().Sub(s.lastMissAt) >= s.minRefresh
		if allowed {
			s.lastMissAt = s.now()
		}
		s.mu.Unlock()
		if allowed {
			if err := s.refresh(ctx, func() bool { return false }); err != nil {
				return signingKey{}, err
			}
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return signingKey{}, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)
}

// refresh fetches the keys unless done() says another goroutine did it meanwhile.
func (s *keySet) refresh(ctx context.Context, done func() bool) error {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.RLock()
	skip := done()
	s.mu.RUnlock()
	if skip {
		return nil
	}
	keys, err := s.fetch(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, s.now()
	s.mu.Unlock()
	return nil
}

type openIDMetadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

type jwks struct {
	Keys []struct {
		Kty          string   `json:"kty"`
		Kid          string   `json:"kid"`
		Use          string   `json:"use"`
		N            string   `json:"n"`
		E            string   `json:"e"`
		Endorsements []string `json:"endorsements"`
	} `json:"keys"`
}

func (s *keySet) fetch(ctx context.Context) (map[string]signingKey, error) {
	var md openIDMetadata
	if err := s.getJSON(ctx, s.metadataURL, &md); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if md.JWKSURI == "" {
		return nil, fmt.Errorf("openid metadata %s has no jwks_uri", s.metadataURL)
	}
	var set jwks
	if err := s.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]signingKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			return nil, fmt.Errorf("jwks key %q: %w", k.Kid, err)
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks at %s has no RSA signing keys", md.JWKSURI)
	}
	return keys, nil
}

func (s *keySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n64)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e64)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	e := new(big.Int).SetBytes(eb)
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("exponent out of range")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e.Int64())}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("modulus of %d bits is too short", pub.N.BitLen())
	}
	return pub, nil
}
