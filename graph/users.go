package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// User is a colleague found in the directory.
type User struct {
	// ID is the Entra object id, the key for notifications and installs.
	ID                string
	DisplayName       string
	Mail              string
	UserPrincipalName string
}

// PermissionReadUsers is the application permission FindUsers needs.
const PermissionReadUsers = "User.Read.All"

// ErrInvalidQuery reports a search that cannot be sent.
var ErrInvalidQuery = errors.New("graph: invalid user query")

// MaxFindUsers caps FindUsers' limit: the result feeds a picker, not an export.
const MaxFindUsers = 50

// FindUsers looks up enabled users whose display name or mail has a word
// starting with query (Graph $search, which needs the ConsistencyLevel:
// eventual header), for adding a colleague to a thread. limit ≤ 0 means 10.
func (c *Client) FindUsers(ctx context.Context, query string, limit int) ([]User, error) {
	const op = "find users"
	// $search takes a quoted phrase; quotes and backslashes in the query
	// would end it, and they never occur in names worth matching.
	q := strings.TrimSpace(strings.NewReplacer(`"`, " ", `\`, " ").Replace(query))
	if q == "" {
		return nil, fmt.Errorf("%w: empty query", ErrInvalidQuery)
	}
	switch {
	case limit <= 0:
		limit = 10
	case limit > MaxFindUsers:
		limit = MaxFindUsers
	}
	headers := abs.NewRequestHeaders()
	headers.Add("ConsistencyLevel", "eventual")
	cfg := &users.UsersRequestBuilderGetRequestConfiguration{
		Headers: headers,
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
			Search: ptr(fmt.Sprintf(`"displayName:%s" OR "mail:%s"`, q, q)),
			Filter: ptr("accountEnabled eq true"),
			Select: []string{"id", "displayName", "mail", "userPrincipalName"},
			Top:    ptr(int32(limit)),
		},
	}
	var out []User
	err := c.call(ctx, op, PermissionReadUsers, func(ctx context.Context) error {
		resp, err := c.sdk.Users().Get(ctx, cfg)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, u := range resp.GetValue() {
			out = append(out, User{
				ID:                deref(u.GetId()),
				DisplayName:       deref(u.GetDisplayName()),
				Mail:              deref(u.GetMail()),
				UserPrincipalName: deref(u.GetUserPrincipalName()),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
