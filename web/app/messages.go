package app

import (
	"fmt"

	"github.com/tacit-social/tacit/community"
)

// messages is every text the web app shows, by key, in English. Templates look texts
// up with {{t "key" args…}} and handlers with T, so that a translation is one more map
// of the same keys. Arguments are fmt verbs. A test checks that every key a template
// or handler uses is here.
var messages = map[string]string{
	// Layout and navigation.
	"nav.label":                "Main",
	"nav.home":                 "Home",
	"nav.department":           "Department",
	"nav.company":              "Company",
	"nav.world":                "World",
	"nav.notifications":        "Notifications",
	"nav.bookmarks":            "Bookmarks",
	"nav.experts":              "Who knows…?",
	"nav.settings":             "Settings",
	"nav.profile":              "Your profile",
	"nav.sign_in":              "Sign in",
	"nav.sign_out":             "Sign out",
	"nav.skip":                 "Skip to content",
	"footer.powered":           "Powered by Tacit %s",
	"title.separator":          "%s · %s",
	"live.new_posts":           "New posts have arrived. Show them",
	"page.older":               "Older posts",
	"page.newest":              "Back to the newest",
	"page.empty":               "Nothing here yet.",
	"page.end":                 "There is nothing older.",
	"signed_in_as":             "Signed in as %s",
	"landing.heading":          "Welcome to %s",
	"landing.posts":            "Public posts from this department",
	"landing.sign_in":          "Sign in to read and write in your company's community.",
	"landing.rules":            "Rules",
	"landing.no_posts":         "No public posts yet.",
	"timeline.home":            "Home",
	"timeline.home.lead":       "Posts from the people and hashtags you follow.",
	"timeline.department":      "Department",
	"timeline.department.lead": "Everything posted on this instance that you may read.",
	"timeline.company":         "Company",
	"timeline.company.lead":    "Posts from every department of the company.",
	"timeline.bookmarks":       "Bookmarks",
	"timeline.bookmarks.lead":  "Posts you bookmarked, the latest first.",
	"timeline.world":           "World",
	"timeline.world.lead":      "Posts anyone may read, also outside the company.",

	// Audience: the product's core idea, said the same way everywhere.
	"audience.label":              "Who can read this",
	"audience.department":         "People in this department only",
	"audience.company":            "Everyone in the company, all departments",
	"audience.world":              "Anyone, also outside the company",
	"audience.private.department": "Followers in this department only",
	"audience.private.company":    "Followers in the company",
	"audience.private.world":      "Followers, also outside the company",
	"audience.direct":             "Only the people mentioned",
	"audience.unlisted":           "%s (not listed in timelines)",

	// Compose.
	"compose.heading":             "Write a post",
	"compose.reply_heading":       "Reply",
	"compose.text":                "What do you want to say?",
	"compose.spoiler":             "Content warning (optional)",
	"compose.spoiler_hint":        "Readers see this first and open the post to read the rest.",
	"compose.audience":            "Who will read it?",
	"compose.visibility":          "Where it shows",
	"compose.visibility.public":   "In timelines",
	"compose.visibility.unlisted": "Not in timelines (only on your profile and by link)",
	"compose.visibility.private":  "Only your followers",
	"compose.visibility.direct":   "Only the people you mention",
	"compose.submit":              "Publish",
	"compose.reply_submit":        "Publish reply",
	"compose.reply_note":          "A reply never reaches more people than the post it answers.",
	"compose.limit":               "Up to %d characters.",

	// Posts.
	"status.boosted_by":     "%s boosted",
	"status.reply_to":       "In reply to an earlier post",
	"status.open":           "Open the post",
	"status.show_more":      "Show the post",
	"status.replies":        "%d replies",
	"status.favourite":      "Favourite",
	"status.unfavourite":    "Remove favourite",
	"status.boost":          "Boost",
	"status.unboost":        "Undo boost",
	"status.bookmark":       "Bookmark",
	"status.unbookmark":     "Remove bookmark",
	"status.delete":         "Delete",
	"status.delete_confirm": "Delete this post for good?",
	"status.reply":          "Reply",
	"status.actions":        "Actions on this post",
	"status.counts":         "%d favourites, %d boosts, %d replies",
	"status.edited":         "edited",
	"status.media":          "Attachment",
	"status.thread":         "Thread",
	"status.heading":        "Post by %s",

	// Editing.
	"edit.heading":  "Edit your post",
	"edit.submit":   "Save the changes",
	"edit.note":     "Who can read it does not change: %s.",
	"edit.not_here": "This post has pictures or a poll; edit it in an app that shows them.",
	"status.edit":   "Edit",

	// Profiles.
	"profile.heading":     "%s (%s)",
	"profile.posts":       "Posts",
	"profile.counts":      "%d posts, %d following, %d followers",
	"profile.expertise":   "Knows about",
	"profile.featured":    "Featured hashtags",
	"profile.follow":      "Follow",
	"profile.unfollow":    "Unfollow",
	"profile.requested":   "Cancel follow request",
	"profile.follows_you": "Follows you",
	"profile.yourself":    "This is you.",
	"profile.edit":        "Edit your profile",
	"profile.locked":      "Approves followers by hand",
	"profile.department":  "Department: %s",

	// Hashtags.
	"tag.heading": "#%s",
	"tag.lead":    "Posts with this hashtag that you may read.",

	// Notifications.
	"notifications.heading":        "Notifications",
	"notifications.empty":          "No notifications.",
	"notifications.mention":        "%s mentioned you",
	"notifications.follow":         "%s followed you",
	"notifications.follow_request": "%s asked to follow you",
	"notifications.favourite":      "%s favourited your post",
	"notifications.reblog":         "%s boosted your post",
	"notifications.update":         "%s edited a post you interacted with",
	"notifications.status":         "%s posted",
	"notifications.poll":           "A poll you took part in has ended",
	"notifications.other":          "%s: %s",
	"notifications.older":          "Older notifications",

	// Experts.
	"experts.heading":     "Who knows…?",
	"experts.lead":        "Find the people across the company who know about a topic, and why.",
	"experts.query":       "Topic or question",
	"experts.submit":      "Search",
	"experts.results":     "People who know about “%s”",
	"experts.none":        "Nobody found for “%s”. Ask the question as a post: someone may know.",
	"experts.ask":         "Ask “%s” as a post",
	"experts.ask_text":    "Who knows about %s? ",
	"experts.declared":    "Says they know",
	"experts.tags":        "Featured hashtags",
	"experts.fields":      "On their profile",
	"experts.posts":       "Posts on the topic",
	"experts.counts":      "%d matching posts, %d with a matching hashtag, %d favourites",
	"experts.unanswered":  "These departments did not answer in time: %s",
	"experts.unavailable": "Search is not available on this instance.",
	"experts.department":  "Department: %s",

	// Settings.
	"settings.heading":        "Settings",
	"settings.profile":        "Your profile",
	"settings.display_name":   "Display name",
	"settings.note":           "About you",
	"settings.expertise":      "What you know about",
	"settings.expertise_hint": "Topics separated by commas. Colleagues find you through them under “Who knows…?”.",
	"settings.default_scope":  "Who reads your posts by default",
	"settings.save":           "Save settings",
	"settings.saved":          "Your settings are saved.",

	// Sign-in.
	"login.heading":    "Sign in to %s",
	"login.login":      "Username or e-mail address",
	"login.password":   "Password",
	"login.submit":     "Sign in",
	"login.missing":    "Enter your username or e-mail address and your password.",
	"login.bad":        "Invalid username/email or password.",
	"login.too_many":   "Too many failed sign-in attempts for this account. Wait a few minutes, then try again.",
	"login.signed_out": "You are signed out.",

	// Errors.
	"error.heading":           "Something went wrong",
	"error.not_found":         "This page does not exist, or you may not see it.",
	"error.not_found.heading": "Not found",
	"error.csrf":              "This form has expired or did not come from this site. Go back, reload the page and try again.",
	"error.forbidden.heading": "Not allowed",
	"error.bad_form":          "The form could not be read.",
	"error.server":            "Something went wrong on this server. Try again in a moment.",
	"error.invalid.heading":   "That did not work",
	"error.back":              "Go back to the home page",

	// Compose with pictures and polls, profile fields and pictures, unread count.
	"compose.pictures":            "Add pictures",
	"compose.pictures_hint":       "Up to 4 pictures (JPEG, PNG, GIF or WebP, at most 16 MB each). Describe each one for people who cannot see it.",
	"compose.picture":             "Picture %d",
	"compose.picture_file":        "Picture file",
	"compose.picture_description": "Description of the picture",
	"compose.poll":                "Add a poll",
	"compose.poll_hint":           "Fill in 2 to 4 options. A post has either pictures or a poll.",
	"compose.poll_option":         "Option %d",
	"compose.poll_multiple":       "People may choose several options",
	"compose.poll_duration":       "Voting is open for",
	"compose.poll_or_pictures":    "A post can have pictures or a poll, not both.",
	"compose.pictures_again":      "%s Nothing was posted; choose the pictures again.",
	"upload.refused":              "The picture %q was refused: %s",
	"upload.too_large":            "The pictures are too large to send together. Nothing was saved; choose smaller pictures and try again.",
	"poll.duration.30m":           "30 minutes",
	"poll.duration.1h":            "1 hour",
	"poll.duration.6h":            "6 hours",
	"poll.duration.1d":            "1 day",
	"poll.duration.3d":            "3 days",
	"poll.duration.7d":            "7 days",
	"poll.choose_one":             "Choose one option",
	"poll.choose_many":            "Choose one or more options",
	"poll.vote":                   "Vote",
	"poll.results":                "Poll results",
	"poll.your_choice":            "(your choice)",
	"poll.option_result":          "%d%% (votes: %d)",
	"poll.hidden":                 "The author shows the results when the poll ends.",
	"poll.voters":                 "People who voted: %d",
	"poll.ends":                   "open until %s",
	"poll.ended":                  "voting has ended",
	"poll.no_choice":              "Choose an option before voting.",
	"poll.bad_choice":             "That choice is not an option of this poll.",
	"nav.unread":                  "unread",
	"nav.unread_many":             "%d+",
	"settings.fields":             "Profile fields",
	"settings.fields_hint":        "Up to %d labelled facts shown on your profile, such as your team, your office or your pronouns.",
	"settings.field_name":         "Label %d",
	"settings.field_value":        "Content %d",
	"settings.pictures":           "Profile pictures",
	"settings.pictures_hint":      "JPEG, PNG, GIF or WebP, at most 16 MB. Leave a choice empty to keep the current picture.",
	"settings.avatar":             "New profile picture",
	"settings.avatar_current":     "Your current profile picture",
	"settings.header":             "New header picture",
	"settings.header_current":     "Your current header picture",
	"settings.pictures_again":     "%s Nothing was saved; choose the pictures again.",
	// Idea boards (boards.go, board*.html, idea.html).
	"nav.boards":               "Idea boards",
	"boards.heading":           "Idea boards",
	"boards.lead":              "The idea boards of every department. Follow a board to see its new ideas in your home timeline.",
	"boards.empty":             "There are no idea boards yet.",
	"board.heading":            "%s: ideas",
	"board.department":         "Department: %s",
	"board.follow":             "Follow %s",
	"board.unfollow":           "Unfollow %s",
	"board.rules":              "Rules of this board",
	"board.moderators":         "Moderated by",
	"board.sort":               "Order",
	"board.sort.new":           "Newest first",
	"board.sort.top":           "Most votes first",
	"board.sort.trending":      "Trending",
	"board.filter":             "Status",
	"board.filter.all":         "Any status",
	"board.show":               "Show the ideas",
	"board.ideas":              "Ideas",
	"board.no_ideas":           "No ideas here yet.",
	"board.pages":              "More ideas",
	"board.newer":              "Previous ideas",
	"board.older":              "More ideas",
	"board.state.new":          "New",
	"board.state.under_review": "Under review",
	"board.state.planned":      "Planned",
	"board.state.done":         "Done",
	"board.state.declined":     "Declined",
	"board.submit.heading":     "Submit an idea",
	"board.submit.title":       "Title",
	"board.submit.body":        "Explain the idea",
	"board.submit.hint":        "Optional, up to %d characters. Everyone who can read the board can read, vote and discuss.",
	"board.submit.button":      "Submit the idea",
	"board.ban.heading":        "Ban a person from this board",
	"board.ban.account":        "Person",
	"board.ban.hint":           "Their handle, for example @alice or @alice@other.example.",
	"board.ban.reason":         "Reason (optional)",
	"board.ban.ban":            "Ban from this board",
	"board.ban.unban":          "Lift the ban",
	"board.ban.unknown":        "Nobody called %s is known here.",
	"board.ban.done.ban":       "The person is banned from this board.",
	"board.ban.done.unban":     "The ban is lifted.",
	"idea.by":                  "by %s (%s)",
	"idea.back":                "Back to %s",
	"idea.state_label":         "Status",
	"idea.pinned":              "Pinned",
	"idea.locked":              "Locked",
	"idea.merged":              "Merged",
	"idea.merged_into":         "This idea was merged into another one. Open it",
	"idea.votes":               "%d votes",
	"idea.votes.one":           "1 vote",
	"idea.replies":             "%d replies",
	"idea.replies.one":         "1 reply",
	"idea.vote":                "Vote for this idea",
	"idea.unvote":              "Withdraw your vote",
	"idea.comment_label":       "The moderators' comment",
	"idea.changed":             "Status changed",
	"idea.history":             "Moderation history",
	"idea.history.status":      "Status set to %s",
	"idea.history.action":      "Action: %s",
	"idea.discussion":          "Discussion",
	"idea.no_replies":          "No replies yet.",
	"idea.locked_note":         "The moderators locked this idea: the discussion is closed.",
	"idea.mod.heading":         "Moderate this idea",
	"idea.mod.actions":         "Moderation",
	"idea.mod.status":          "New status",
	"idea.mod.comment":         "Comment shown with the status",
	"idea.mod.comment_hint":    "Optional. Everyone who reads the idea sees it.",
	"idea.mod.set_status":      "Set the status",
	"idea.mod.lock":            "Lock the discussion",
	"idea.mod.unlock":          "Unlock the discussion",
	"idea.mod.pin":             "Pin to the top",
	"idea.mod.unpin":           "Unpin",
	"idea.mod.merge_into":      "Merge into",
	"idea.mod.merge_choice":    "%s (votes: %d)",
	"idea.mod.merge":           "Merge the idea",
	"idea.mod.move_to":         "Move to board",
	"idea.mod.move":            "Move the idea",
	"idea.mod.reason":          "Reason for removing (optional)",
	"idea.mod.remove":          "Remove the idea",
	"idea.mod.remove_reply":    "Remove this reply by %s",
	"idea.mod.no_status":       "Choose the new status.",
	"idea.mod.no_target":       "Choose where the idea goes.",
}

// T returns the text for key with args filled in. An unknown key returns the key
// itself, visibly, rather than an empty string.
func T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// audienceKey names, in the catalog, who can read a post with this visibility and
// scope. It only words the audience the domain decided; it decides nothing.
func audienceKey(v community.Visibility, sc community.Scope) string {
	switch v {
	case community.VisibilityDirect:
		return "audience.direct"
	case community.VisibilityPrivate:
		return "audience.private." + string(sc)
	}
	return "audience." + string(sc)
}

// audienceText is the audience in words, as every post shows it.
func audienceText(v community.Visibility, sc community.Scope) string {
	text := T(audienceKey(v, sc))
	if v == community.VisibilityUnlisted {
		return T("audience.unlisted", text)
	}
	return text
}
