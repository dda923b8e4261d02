"""Drives a Tacit instance with real Mastodon clients: Mastodon.py and toot's API module.

Usage: clients.py BASE_URL ACCESS_TOKEN LOGIN_EMAIL PASSWORD

Exits non-zero, with the reason on stderr, at the first step that fails. Run by
web/realclients_test.go.
"""

import re
import sys
import threading

import requests
from mastodon import Mastodon, StreamListener


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
    print("ok:", what)


def mastodon_py(base, token):
    m = Mastodon(access_token=token, api_base_url=base)
    # Mastodon.py reads the version from /api/v1/instance/ (with the slash) and
    # refuses newer features by itself when it cannot parse a 4.x there.
    version = m.retrieve_mastodon_version()
    check(version.startswith("4."), "Mastodon.py parsed the version as 4.x (got %s)" % version)
    inst = m.instance()
    check(inst["uri"] != "", "instance read")

    st = m.status_post("hello from Mastodon.py")
    check("hello from Mastodon.py" in st["content"], "post")

    poll = m.make_poll(["yes", "no"], expires_in=3600)
    ps = m.status_post("Shall we?", poll=poll)
    check([o["title"] for o in ps["poll"]["options"]] == ["yes", "no"], "poll")
    m.poll_vote(ps["poll"]["id"], [0])  # returns nothing in Mastodon.py 1.8
    check(m.poll(ps["poll"]["id"])["votes_count"] == 1, "poll vote")

    edited = m.status_update(st["id"], "edited from Mastodon.py")
    check("edited from Mastodon.py" in edited["content"], "edit")
    history = m.status_history(st["id"])
    check(len(history) == 2, "edit history")

    me = m.account_verify_credentials()
    found = m.search_v2(me["username"], result_type="accounts")
    check(any(a["id"] == me["id"] for a in found["accounts"]), "search v2 finds the account")

    # The stream must deliver an update; Mastodon.py aborts on a malformed frame
    # (a blank line after a comment), which would leave got empty.
    got = []
    errors = []
    arrived = threading.Event()
    opened = threading.Event()

    class Listener(StreamListener):
        # The server's first comment (":)") says the stream is open and subscribed;
        # with run_async, Mastodon.py connects in its own thread after returning.
        def handle_heartbeat(self):
            opened.set()

        def on_update(self, status):
            got.append(status)
            arrived.set()

        def on_abort(self, err):
            errors.append(err)
            arrived.set()

    handle = m.stream_user(Listener(), run_async=True)
    try:
        check(opened.wait(30), "stream opened")
        m.status_post("streamed to Mastodon.py")
        arrived.wait(30)
    finally:
        handle.close()
    check(not errors, "stream without errors (%s)" % errors)
    check(any("streamed to Mastodon.py" in s["content"] for s in got), "stream_user received the update")


def toot_browser_login(base, email, password):
    """toot's recommended login: the browser opens /oauth/authorize/?… (with the
    slash), the person signs in, and pastes the code back into toot."""
    from toot import App, api

    reg = requests.post(base + "/api/v1/apps", data={
        "client_name": "toot - a Mastodon CLI client", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": api.SCOPES, "website": "https://github.com/ihabunek/toot",
    })
    check(reg.status_code == 200, "app registration (%d)" % reg.status_code)
    creds = reg.json()
    host = base.split("://", 1)[1]
    app = App(host, base, creds["client_id"], creds["client_secret"])
    url = api.get_browser_login_url(app)
    check("/oauth/authorize/?" in url, "toot's login URL has the trailing slash")
    page = requests.get(url)
    check(page.status_code == 200, "the login page answers (%d)" % page.status_code)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form.update({"login": email, "password": password, "decision": "allow"})
    done = requests.post(base + "/oauth/authorize", data=form)
    code = re.search(r'id="authorization-code">([^<]+)<', done.text)
    check(done.status_code == 200 and code is not None, "sign-in gives an out-of-band code (%d)" % done.status_code)
    token = api.request_access_token(app, code.group(1))
    check(token.get("access_token"), "toot exchanged the code for a token")


def main():
    base, token, email, password = sys.argv[1:5]
    mastodon_py(base, token)
    toot_browser_login(base, email, password)


if __name__ == "__main__":
    main()
