package connector

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Settings are the bot's identity as the Azure Bot console names it.
type Settings struct {
	AppID    string // MicrosoftAppId
	Password string // MicrosoftAppPassword (client secret)
	TenantID string // MicrosoftAppTenantId
	AppType  string // MicrosoftAppType: SingleTenant, UserAssignedMSI or MultiTenant
}

// ErrIncompleteSettings: the settings do not say how to get a token.
var ErrIncompleteSettings = errors.New("incomplete bot credentials")

// legacyMultiTenantAuthority is where tokens of (pre-July-2025) multi-tenant bots come from.
const legacyMultiTenantAuthority = "botframework.com"

// NewCredential builds the outbound credential for s: a client secret for
// SingleTenant bots (in their own tenant), the user-assigned managed identity
// AppID for UserAssignedMSI bots. It also returns the tenant to ask tokens for.
func NewCredential(s Settings) (azcore.TokenCredential, string, error) {
	if s.AppID == "" {
		return nil, "", fmt.Errorf("%w: MicrosoftAppId is empty", ErrIncompleteSettings)
	}
	switch s.AppType {
	case "UserAssignedMSI":
		c, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(s.AppID)})
		if err != nil {
			return nil, "", fmt.Errorf("managed identity credential: %w", err)
		}
		return c, s.TenantID, nil
	case "SingleTenant", "":
		if s.TenantID == "" {
			return nil, "", fmt.Errorf("%w: MicrosoftAppTenantId is empty", ErrIncompleteSettings)
		}
		if s.Password == "" {
			return nil, "", fmt.Errorf("%w: MicrosoftAppPassword is empty", ErrIncompleteSettings)
		}
		c, err := azidentity.NewClientSecretCredential(s.TenantID, s.AppID, s.Password, nil)
		if err != nil {
			return nil, "", fmt.Errorf("client secret credential: %w", err)
		}
		return c, s.TenantID, nil
	case "MultiTenant":
		if s.Password == "" {
			return nil, "", fmt.Errorf("%w: MicrosoftAppPassword is empty", ErrIncompleteSettings)
		}
		c, err := azidentity.NewClientSecretCredential(legacyMultiTenantAuthority, s.AppID, s.Password, nil)
		if err != nil {
			return nil, "", fmt.Errorf("client secret credential: %w", err)
		}
		return c, legacyMultiTenantAuthority, nil
	default:
		return nil, "", fmt.Errorf("%w: unknown MicrosoftAppType %q", ErrIncompleteSettings, s.AppType)
	}
}
