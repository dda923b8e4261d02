// A desktop or web app built on megalodon (Whalebird and others) meets Tacit: it first
// asks megalodon's detector what kind of server this is, logs in with the OAuth
// authorization-code flow, posts, votes, edits, searches, and listens to the user
// stream over WebSocket. The Go test TestMegalodon starts the instance and runs this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import generator, { detector } from "megalodon";

const url = process.env.TACIT_URL;
const redirectUri = "http://127.0.0.1/callback";
const scopes = ["read", "write", "follow", "push"];

// logIn registers an app through megalodon, goes through the authorization page as a
// person would, and exchanges the code for a token through megalodon again.
async function logIn(sns, login, password) {
  const anonymous = generator(sns, url);
  const app = await anonymous.registerApp("megalodon journey", { scopes, redirect_uris: redirectUri });
  const authorize = new URL(app.url);
  assert.equal(authorize.origin, url, "the authorization page is on the instance");
  const form = new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: scopes.join(" "),
    login,
    password,
    decision: "allow",
  });
  const res = await fetch(`${url}/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
  assert.equal(res.status, 302, `authorize answered ${res.status}`);
  const code = new URL(res.headers.get("location")).searchParams.get("code");
  assert.ok(code, "no code in the redirect");
  const token = await anonymous.fetchAccessToken(app.client_id, app.client_secret, code, redirectUri);
  return generator(sns, url, token.access_token);
}

// next resolves with the first event of the given name that matches, or rejects after ms.
function next(stream, name, match, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${name} event`)), ms);
    const listener = (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      stream.removeListener(name, listener);
      resolve(payload);
    };
    stream.on(name, listener);
  });
}

test("a megalodon app's day on Tacit", async () => {
  // megalodon reads NodeInfo and accepts servers of other names whose upstream is
  // Mastodon; anything else is "Unknown SNS" and the app stops there.
  const sns = await detector(url);
  assert.equal(sns, "mastodon");

  const alice = await logIn(sns, process.env.TACIT_ALICE, process.env.TACIT_PASSWORD);
  const bob = await logIn(sns, process.env.TACIT_BOB, process.env.TACIT_PASSWORD);
  const me = (await alice.verifyAccountCredentials()).data;
  assert.equal(me.username, process.env.TACIT_ALICE);
  const bobAccount = (await bob.verifyAccountCredentials()).data;

  // Bob listens to his user stream before anything happens.
  const stream = await bob.userStreaming();
  const connected = new Promise((resolve, reject) => {
    stream.once("connect", resolve);
    stream.once("error", reject);
  });
  try {
    await connected;
    await bob.followAccount(me.id);

    const poll = (
      await alice.postStatus("Lunch on Friday?", { poll: { options: ["Pizza", "Salad"], expires_in: 3600 } })
    ).data;
    assert.equal(poll.poll.options.length, 2);
    const voted = (await bob.votePoll(poll.poll.id, [0])).data;
    assert.equal(voted.votes_count, 1);

    const seenUpdate = next(stream, "update", (s) => s.content.includes("ships today"));
    const seenMention = next(stream, "notification", (n) => n.type === "mention" && n.status.content.includes("review"));
    const post = (await alice.postStatus("The release ships today.")).data;
    await alice.postStatus(`@${bobAccount.username} could you review it?`);
    const [update, mention] = await Promise.all([seenUpdate, seenMention]);
    assert.equal(update.id, post.id);
    assert.equal(mention.account.id, me.id);

    const edited = (await alice.editStatus(post.id, { status: "The release ships tomorrow." })).data;
    assert.ok(edited.content.includes("tomorrow"), `edited content: ${edited.content}`);
    assert.ok(edited.edited_at, "the edit is dated");

    const home = (await bob.getHomeTimeline({ limit: 10 })).data;
    assert.ok(home.some((s) => s.id === post.id), "the post is in bob's home timeline");

    const found = (await bob.search(process.env.TACIT_ALICE, { type: "accounts", resolve: false })).data;
    assert.ok(found.accounts.some((a) => a.id === me.id), "bob finds alice by name");
  } finally {
    stream.stop();
  }
});
