package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/appcatalogs"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Application permissions for installing the app. The Self variant is the
// least privileged (the app may install only itself); the broader
// TeamsAppInstallation.ReadWriteForUser.All works too.
const (
	PermissionInstallApp  = "TeamsAppInstallation.ReadWriteSelfForUser.All (or TeamsAppInstallation.ReadWriteForUser.All)"
	PermissionReadCatalog = "AppCatalog.Read.All"
)

// ErrInvalidInstall reports install arguments that cannot be sent.
var ErrInvalidInstall = errors.New("graph: invalid app installation")

// InstallAppForUser installs the Teams app teamsCatalogAppID (the id in the
// tenant's app catalog, see CatalogAppID) in the personal scope of userID,
// so the bot can message the user proactively. It is idempotent: Graph's
// 409 Conflict for an app that is already installed counts as success.
func (c *Client) InstallAppForUser(ctx context.Context, userID, teamsCatalogAppID string) error {
	const op = "install app for user"
	if strings.TrimSpace(userID) == "" || strings.TrimSpace(teamsCatalogAppID) == "" {
		return fmt.Errorf("%w: user id and catalog app id are required", ErrInvalidInstall)
	}
	body := models.NewUserScopeTeamsAppInstallation()
	body.SetAdditionalData(map[string]any{
		"teamsApp@odata.bind": c.baseURL + "/appCatalogs/teamsApps/" + teamsCatalogAppID,
	})
	err := c.call(ctx, op, PermissionInstallApp, func(ctx context.Context) error {
		_, err := c.sdk.Users().ByUserId(userID).Teamwork().InstalledApps().Post(ctx, body, nil)
		return err
	})
	var ge *Error
	if errors.As(err, &ge) && ge.Status == 409 {
		return nil
	}
	return err
}

// InstallForUser installs the MultiLine app (Config.TeamsAppID) in the
// personal scope of userID. The app's org catalog id is looked up once
// (CatalogAppID) and remembered for the life of the process: it changes only
// when an admin deletes the app and uploads it again (installs then fail with
// ErrNotFound until the service restarts).
func (c *Client) InstallForUser(ctx context.Context, userID string) error {
	id, err := c.catalogApp(ctx)
	if err != nil {
		return err
	}
	return c.InstallAppForUser(ctx, userID, id)
}

// catalogApp is CatalogAppID of Config.TeamsAppID, remembered once found.
func (c *Client) catalogApp(ctx context.Context) (string, error) {
	c.catalogMu.Lock()
	defer c.catalogMu.Unlock()
	if c.catalogID != "" {
		return c.catalogID, nil
	}
	if c.teamsAppID == "" {
		return "", fmt.Errorf("%w: no Config.TeamsAppID to find the app in the catalog", ErrInvalidInstall)
	}
	id, err := c.CatalogAppID(ctx, c.teamsAppID)
	if err != nil {
		return "", err
	}
	c.catalogID = id
	return id, nil
}

// CatalogAppID finds the app catalog id of the app whose manifest id is
// externalID (the Teams app id in manifest.json). An app uploaded by an
// admin gets a catalog id different from its manifest id. It returns an
// error matching ErrNotFound when the app is not in the org catalog, which
// usually means the admin has not uploaded the package yet.
// AppCatalog.Read.All is not among the permissions the install guide asks
// for; without it the 403 names it, and the admin can instead configure the
// catalog id directly.
func (c *Client) CatalogAppID(ctx context.Context, externalID string) (string, error) {
	const op = "find app in catalog"
	if strings.ContainsAny(externalID, "'") || strings.TrimSpace(externalID) == "" {
		return "", fmt.Errorf("%w: bad external id %q", ErrInvalidInstall, externalID)
	}
	cfg := &appcatalogs.TeamsAppsRequestBuilderGetRequestConfiguration{
		QueryParameters: &appcatalogs.TeamsAppsRequestBuilderGetQueryParameters{
			Filter: ptr("externalId eq '" + externalID + "'"),
			Select: []string{"id", "externalId", "displayName", "distributionMethod"},
		},
	}
	var id string
	err := c.call(ctx, op, PermissionReadCatalog, func(ctx context.Context) error {
		resp, err := c.sdk.AppCatalogs().TeamsApps().Get(ctx, cfg)
		if err != nil {
			return err
		}
		for _, app := range resp.GetValue() {
			if app.GetId() != nil {
				id = *app.GetId()
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("graph: %s: no app with externalId %q in the org app catalog (upload appPackage.zip in the Teams admin center first): %w",
			op, externalID, ErrNotFound)
	}
	return id, nil
}
