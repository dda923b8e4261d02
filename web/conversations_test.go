package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

func usernames(accounts []*mastodon.Account) []string {
	out := make([]string, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, a.Username)
	}
	return out
}

// TestConversationsWithClient follows direct messages through go-mastodon: each
// participant gets a conversation with the others, unread for recipients; a reply moves
// it on; reading and removing are per person; deleting the last status falls back to
// the one before; a different set of people is a different conversation; someone not
// addressed sees nothing.
func TestConversationsWithClient(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		cai := inst.CreateUser(t, "cai", instancetest.UserOptions{})
		anaC, benC, caiC := inst.Client(ana.Token), inst.Client(ben.Token), inst.Client(cai.Token)

		first, err := anaC.PostStatus(ctx, &mastodon.Toot{Status: "@ben shall we talk about the reorg?", Visibility: "direct"})
		if err != nil {
			t.Fatal(err)
		}
		// A public mention is not a conversation.
		if _, err := anaC.PostStatus(ctx, &mastodon.Toot{Status: "@ben hello in public", Visibility: "public"}); err != nil {
			t.Fatal(err)
		}
		anaConvs, err := anaC.GetConversations(ctx, nil)
		if err != nil || len(anaConvs) != 1 {
			t.Fatalf("ana's conversations: %v, %d", err, len(anaConvs))
		}
		benConvs, err := benC.GetConversations(ctx, nil)
		if err != nil || len(benConvs) != 1 {
			t.Fatalf("ben's conversations: %v, %d", err, len(benConvs))
		}
		if c := anaConvs[0]; c.Unread || c.LastStatus == nil || c.LastStatus.ID != first.ID || fmt.Sprint(usernames(c.Accounts)) != "[ben]" {
			t.Errorf("ana's conversation = unread %v, last %v, accounts %v", c.Unread, c.LastStatus, usernames(c.Accounts))
		}
		if c := benConvs[0]; !c.Unread || c.LastStatus == nil || c.LastStatus.ID != first.ID || fmt.Sprint(usernames(c.Accounts)) != "[ana]" {
			t.Errorf("ben's conversation = unread %v, last %v, accounts %v", c.Unread, c.LastStatus, usernames(c.Accounts))
		}
		if convs, err := caiC.GetConversations(ctx, nil); err != nil || len(convs) != 0 {
			t.Errorf("cai, not addressed, has conversations: %v %d", err, len(convs))
		}

		if err := benC.MarkConversationAsRead(ctx, benConvs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := anaC.MarkConversationAsRead(ctx, benConvs[0].ID); err == nil {
			t.Error("ana marked ben's conversation as read")
		}
		reply, err := benC.PostStatus(ctx, &mastodon.Toot{Status: "@ana yes, tomorrow", Visibility: "direct", InReplyToID: first.ID})
		if err != nil {
			t.Fatal(err)
		}
		anaConvs, _ = anaC.GetConversations(ctx, nil)
		benConvs, _ = benC.GetConversations(ctx, nil)
		if len(anaConvs) != 1 || !anaConvs[0].Unread || anaConvs[0].LastStatus.ID != reply.ID {
			t.Errorf("ana after ben's reply: %+v", anaConvs)
		}
		if len(benConvs) != 1 || benConvs[0].Unread || benConvs[0].LastStatus.ID != reply.ID {
			t.Errorf("ben after his own reply: %+v", benConvs)
		}

		// Another set of people, another conversation, newest first.
		group, err := caiC.PostStatus(ctx, &mastodon.Toot{Status: "@ana @ben the three of us", Visibility: "direct"})
		if err != nil {
			t.Fatal(err)
		}
		anaConvs, _ = anaC.GetConversations(ctx, nil)
		if len(anaConvs) != 2 || anaConvs[0].LastStatus.ID != group.ID || fmt.Sprint(usernames(anaConvs[0].Accounts)) != "[ben cai]" {
			t.Fatalf("ana's conversations with the group one: %+v", anaConvs)
		}

		// Deleting the last status falls back to the previous one; deleting every status
		// ends the conversation.
		if err := benC.DeleteStatus(ctx, reply.ID); err != nil {
			t.Fatal(err)
		}
		anaConvs, _ = anaC.GetConversations(ctx, nil)
		if len(anaConvs) != 2 || anaConvs[1].LastStatus == nil || anaConvs[1].LastStatus.ID != first.ID {
			t.Errorf("after deleting the reply: %+v", anaConvs)
		}
		if err := caiC.DeleteStatus(ctx, group.ID); err != nil {
			t.Fatal(err)
		}
		if anaConvs, _ = anaC.GetConversations(ctx, nil); len(anaConvs) != 1 {
			t.Errorf("after deleting the only group status: %d conversations", len(anaConvs))
		}

		// Removing is per person.
		if err := anaC.DeleteConversation(ctx, anaConvs[0].ID); err != nil {
			t.Fatal(err)
		}
		if convs, _ := anaC.GetConversations(ctx, nil); len(convs) != 0 {
			t.Errorf("ana still has %d conversations", len(convs))
		}
		if convs, _ := benC.GetConversations(ctx, nil); len(convs) != 1 {
			t.Errorf("ben lost his conversation when ana removed hers: %d", len(convs))
		}
		if a := inst.Call(t, http.MethodDelete, "/api/v1/conversations/"+string(anaConvs[0].ID), ana.Token, nil); a.Code != http.StatusNotFound {
			t.Errorf("removing it again: %d", a.Code)
		}
	})
}

// TestConversationsAcrossInstances: a direct message from another instance starts a
// conversation on the recipient's, through the same domain path as local ones.
func TestConversationsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	ana := a.CreateUser(t, "ana", instancetest.UserOptions{})
	ben := b.CreateUser(t, "ben", instancetest.UserOptions{})
	if _, err := b.Federator.ResolveAccount(ctx, "ana@"+a.Host()); err != nil {
		t.Fatal(err)
	}
	dm, err := b.Client(ben.Token).PostStatus(ctx, &mastodon.Toot{Status: "@ana@" + a.Host() + " across departments", Visibility: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	var convs []*mastodon.Conversation
	eventually.Holds(t, "the conversation on ana's instance", func() bool {
		convs, err = a.Client(ana.Token).GetConversations(ctx, nil)
		return err == nil && len(convs) == 1
	})
	c := convs[0]
	if !c.Unread || c.LastStatus == nil || c.LastStatus.URI != dm.URI || len(c.Accounts) != 1 || c.Accounts[0].Acct != "ben@"+b.Host() {
		t.Errorf("federated conversation: unread %v, last %+v, accounts %+v", c.Unread, c.LastStatus, c.Accounts)
	}
}
