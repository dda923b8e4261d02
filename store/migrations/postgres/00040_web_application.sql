-- The instance's own web application (web/app). A signed-in browser holds one of its
-- access tokens, so revoking tokens, suspending or disabling an account ends web
-- sessions exactly as it ends API sessions. Its client secret is random and never
-- used: the web app issues its tokens itself, never through /oauth/token.

-- +goose Up
INSERT INTO applications (id, name, website, redirect_uris, scopes, client_id, client_secret, created_at)
VALUES (1, 'Tacit web', '', 'urn:ietf:wg:oauth:2.0:oob', 'read write follow', 'tacit-web',
        replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), now());

-- +goose Down
DELETE FROM applications WHERE id = 1 AND client_id = 'tacit-web';
