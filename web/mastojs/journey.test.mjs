// A Mastodon client's journey through Tacit, driven by masto.js: log in with the OAuth
// authorization-code flow, post with media and a poll, read timelines page by page
// through the Link header, and receive a streamed update and notification over
// WebSocket. The Go test TestMastoJS starts the instance and runs this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

// masto.js 8 targets Node 22; Node 20 (Debian's) lacks this one helper it uses.
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const url = process.env.TACIT_URL;
const redirectUri = "http://127.0.0.1/callback";

// logIn registers an app and goes through the authorization page as a person would,
// then exchanges the code for a token.
async function logIn(login, password) {
  const anonymous = createRestAPIClient({ url });
  const app = await anonymous.v1.apps.create({
    clientName: "masto.js journey",
    redirectUris: redirectUri,
    scopes: "read write follow push",
  });
  const form = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "read write follow push",
    login,
    password,
    decision: "allow",
  });
  const res = await fetch(`${url}/oauth/authorize`, { method: "POST", body: form, redirect: "manual" });
  assert.equal(res.status, 302, `authorize answered ${res.status}`);
  const code = new URL(res.headers.get("location")).searchParams.get("code");
  assert.ok(code, "no code in the redirect");
  const oauth = createOAuthAPIClient({ url });
  const token = await oauth.token.create({
    grantType: "authorization_code",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri,
    code,
    scope: "read write follow push",
  });
  return { rest: createRestAPIClient({ url, accessToken: token.accessToken }), token: token.accessToken };
}

// collect reads a subscription until every matcher has matched an event (each event
// is delivered to one reader, so one loop serves them all), or rejects after ms.
function collect(subscription, matchers, ms = 10000) {
  return new Promise((resolve, reject) => {
    const found = matchers.map(() => null);
    const timer = setTimeout(() => reject(new Error("no matching streaming event")), ms);
    (async () => {
      for await (const event of subscription) {
        matchers.forEach((match, i) => {
          if (!found[i] && match(event)) found[i] = event;
        });
        if (found.every(Boolean)) {
          clearTimeout(timer);
          resolve(found);
          return;
        }
      }
    })().catch(reject);
  });
}

test("a masto.js client's day on Tacit", async () => {
  const { rest: alice } = await logIn(process.env.TACIT_ALICE, process.env.TACIT_PASSWORD);
  const { rest: bob, token: bobToken } = await logIn(process.env.TACIT_BOB, process.env.TACIT_PASSWORD);
  const me = await alice.v1.accounts.verifyCredentials();
  assert.equal(me.username, process.env.TACIT_ALICE);
  const bobAccount = await bob.v1.accounts.verifyCredentials();

  const instance = await alice.v2.instance.fetch();
  assert.ok(instance.configuration.urls.streaming, "the instance names its streaming URL");

  // A post with an image, then one with a poll (Mastodon allows one or the other).
  const image = await readFile(process.env.TACIT_IMAGE);
  const media = await alice.v2.media.create({
    file: new Blob([image], { type: "image/png" }),
    description: "The whiteboard after the retro",
  });
  assert.equal(media.type, "image");
  assert.equal(media.description, "The whiteboard after the retro");
  const withMedia = await alice.v1.statuses.create({ status: "Retro notes attached.", mediaIds: [media.id] });
  assert.equal(withMedia.mediaAttachments.length, 1);
  assert.equal(withMedia.mediaAttachments[0].id, media.id);
  assert.ok(withMedia.mediaAttachments[0].previewUrl, "the attachment has a preview");
  const status = await alice.v1.statuses.create({
    status: "Which topic next?",
    poll: { options: ["Testing", "Deploys", "On-call"], expiresIn: 3600 },
  });
  assert.equal(status.poll.options.length, 3);

  // Bob follows alice and votes.
  await bob.v1.accounts.$select(me.id).follow();
  const voted = await bob.v1.polls.$select(status.poll.id).votes.create({ choices: [1] });
  assert.equal(voted.votesCount, 1);
  assert.deepEqual(voted.ownVotes, [1]);

  // Timelines page by page, through the Link header.
  for (let i = 0; i < 7; i++) {
    await alice.v1.statuses.create({ status: `Note ${i}` });
  }
  const seen = new Set();
  let pages = 0;
  for await (const page of bob.v1.timelines.home.list({ limit: 3 })) {
    pages++;
    for (const s of page) {
      assert.ok(!seen.has(s.id), `status ${s.id} came twice`);
      seen.add(s.id);
    }
    if (pages > 10) break;
  }
  assert.ok(pages >= 3, `the home timeline fit on ${pages} pages of 3`);
  assert.ok(seen.has(status.id), "the post with the poll is in bob's home timeline");
  assert.ok(seen.has(withMedia.id), "the post with the image is in bob's home timeline");
  assert.equal(seen.size, 9);

  // Streaming over WebSocket: bob's user stream gets alice's next post and the
  // notification of her mention.
  const streaming = createStreamingAPIClient({
    streamingApiUrl: instance.configuration.urls.streaming,
    accessToken: bobToken,
    retry: false,
    implementation: WebSocket,
  });
  const subscription = streaming.user.subscribe();
  try {
    // masto.js connects and subscribes in the background once the subscription is
    // read, and says nothing when it is done: alice posts until bob's stream shows it.
    const events = collect(subscription, [
      (e) => e.event === "update" && e.payload.content.includes("Streamed hello"),
      (e) => e.event === "notification" && e.payload.type === "mention",
    ], 20000);
    let done = false;
    events.finally(() => (done = true)).catch(() => {});
    for (let i = 0; i < 20 && !done; i++) {
      await alice.v1.statuses.create({ status: `@${bobAccount.username} Streamed hello ${i}` });
      await new Promise((r) => setTimeout(r, 500));
    }
    const [u, n] = await events;
    assert.equal(u.payload.account.id, me.id);
    assert.equal(n.payload.account.id, me.id);
  } finally {
    subscription.unsubscribe();
    streaming.close();
  }
});
