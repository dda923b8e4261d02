"""Signs up on a Tacit instance with Mastodon.py's create_account.

Usage: create_account.py BASE_URL

Registers an app, creates the account "pyuser", reads it back with the new token,
then checks that signing up again with the same name gets Mastodon's detailed
ERR_TAKEN error. Prints the account as JSON on its last line. Run by
web/registrations_test.go.
"""

import json
import sys

from mastodon import Mastodon


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
    print("ok:", what)


def main(base):
    client_id, client_secret = Mastodon.create_app("py-signup", api_base_url=base,
                                                   scopes=["read", "write", "follow", "push"])
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                 version_check_mode="none")
    token = m.create_account("pyuser", "a long python phrase", "pyuser@example.com",
                             agreement=True, locale="en")
    check(bool(token), "create_account returned a token")
    me = Mastodon(access_token=token, api_base_url=base, version_check_mode="none").account_verify_credentials()
    check(me["username"] == "pyuser", "the new token reads the new account")

    again = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                     version_check_mode="none")
    token, details = again.create_account("pyuser", "a long python phrase", "other@example.com",
                                          agreement=True, return_detailed_error=True)
    check(token is None, "a taken name gets no token")
    codes = [e["error"] for e in details.get("details", {}).get("username", [])]
    check(codes == ["ERR_TAKEN"], "a taken name is ERR_TAKEN (got %s)" % codes)
    print(json.dumps({"username": me["username"]}))


if __name__ == "__main__":
    main(sys.argv[1])
