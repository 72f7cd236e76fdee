-- +goose Up
-- An employee's Entra user principal name (ann@contoso.com), as the tab's SSO
-- token or the directory names it: the compliance archive addresses employees
-- by it in the EML it exports and journals. Empty until the service learns it.
ALTER TABLE employees ADD COLUMN upn TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE employees DROP COLUMN upn;
