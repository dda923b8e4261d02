-- The instance's own web application (web/app). A signed-in browser holds one of its
-- access tokens, so revoking tokens, suspending or disabling an account ends web
-- sessions exactly as it ends API sessions. The web app issues its tokens itself;
-- the empty client secret makes the application unusable at /oauth/token, which
-- refuses clients without a secret. The fixed creation time keeps the statement the
-- same in both dialects.

-- +goose Up
INSERT INTO applications (id, name, website, redirect_uris, scopes, client_id, client_secret, created_at)
VALUES (1, 'Tacit web', '', 'urn:ietf:wg:oauth:2.0:oob', 'read write follow', 'tacit-web', '',
        '2026-01-01 00:00:00+00:00');

-- +goose Down
DELETE FROM applications WHERE id = 1 AND client_id = 'tacit-web';
