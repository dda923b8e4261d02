package web

import (
	"context"
	"time"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
)

// Converting domain values into API entities. Lists of statuses are converted in one
// go so that their details cost a fixed number of queries, not one per status.

const timeLayout = "2006-01-02T15:04:05.000Z"

func apiTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func apiTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}

func idPtr(id *int64) *string {
	if id == nil {
		return nil
	}
	s := community.FormatID(*id)
	return &s
}

func strPtr(s string) *string { return &s }

func boolPtr(b bool) *bool { return &b }

// defaultAvatarPath and defaultHeaderPath are served by the instance for accounts
// without images, because clients expect a URL there, never an empty string.
const (
	defaultAvatarPath = "/avatars/original/missing.png"
	defaultHeaderPath = "/headers/original/missing.png"
)

func (s *Server) account(a *community.Account) Account {
	avatar, header := s.community.ProfileImageURLs(a)
	if avatar == "" {
		avatar = s.cfg.BaseURL() + defaultAvatarPath
	}
	if header == "" {
		header = s.cfg.BaseURL() + defaultHeaderPath
	}
	var lastStatus *string
	if a.LastStatusAt != nil {
		d := a.LastStatusAt.UTC().Format("2006-01-02")
		lastStatus = &d
	}
	fields := make([]AccountField, 0, len(a.Fields))
	for _, f := range a.Fields {
		fields = append(fields, AccountField{Name: f.Name, Value: f.Value, VerifiedAt: apiTimePtr(f.VerifiedAt)})
	}
	return Account{
		ID:             community.FormatID(a.ID),
		Username:       a.Username,
		Acct:           a.Acct(),
		DisplayName:    a.DisplayName,
		Locked:         a.Locked,
		Bot:            a.Bot,
		Discoverable:   a.Discoverable,
		Indexable:      a.Discoverable,
		Group:          a.Group,
		CreatedAt:      apiTime(a.CreatedAt),
		Note:           a.Note,
		URL:            a.URL,
		URI:            a.URI,
		Avatar:         avatar,
		AvatarStatic:   avatar,
		Header:         header,
		HeaderStatic:   header,
		FollowersCount: a.FollowersCount,
		FollowingCount: a.FollowingCount,
		StatusesCount:  a.StatusesCount,
		LastStatusAt:   lastStatus,
		Emojis:         []CustomEmoji{},
		Fields:         fields,
		Roles:          []AccountRole{},
		Tacit:          AccountTacit{Expertise: expertiseOf(a)},
	}
}

func expertiseOf(a *community.Account) []string {
	if len(a.Expertise) == 0 {
		return []string{}
	}
	return append([]string{}, a.Expertise...)
}

// roles maps Tacit's roles onto Mastodon's Role entity; permissions are Mastodon's bit
// flags (administrator = 0x1, manage reports 0x10, manage users 0x400…), as clients
// such as Elk read them to show moderation menus.
var roles = map[community.Role]AccountRole{
	community.RoleUser:      {ID: "-99", Name: "", Color: "", Permissions: "65536"},
	community.RoleModerator: {ID: "1", Name: "Moderator", Color: "", Permissions: "1308", Highlighted: true},
	community.RoleAdmin:     {ID: "2", Name: "Admin", Color: "", Permissions: "1", Highlighted: true},
}

// credentialAccount is the account as its owner sees it, with source and role.
func (s *Server) credentialAccount(ctx context.Context, a *community.Account, u *community.User) (Account, error) {
	out := s.account(a)
	fields := make([]AccountField, 0, len(a.Fields))
	for _, f := range a.Fields {
		fields = append(fields, AccountField{Name: f.Name, Value: f.Source, VerifiedAt: apiTimePtr(f.VerifiedAt)})
	}
	pending, err := s.community.FollowRequestCount(ctx, a.ID)
	if err != nil {
		return Account{}, err
	}
	scope := u.DefaultScope
	if scope == "" {
		scope = s.community.DefaultScope()
	}
	out.Source = &AccountSource{
		Note:                a.NoteSource,
		Fields:              fields,
		Privacy:             string(u.DefaultVisibility),
		Sensitive:           u.DefaultSensitive,
		Language:            u.DefaultLanguage,
		FollowRequestsCount: pending,
		Discoverable:        a.Discoverable,
		Indexable:           a.Discoverable,
		AttributionDomains:  []string{},
		Scope:               string(scope),
		Expertise:           expertiseOf(a),
	}
	role := roles[u.Role]
	out.Role = &role
	if u.Role != community.RoleUser {
		out.Roles = []AccountRole{role}
	}
	return out, nil
}

// accounts converts a list, skipping ids that are missing.
func (s *Server) accounts(list []*community.Account) []Account {
	out := make([]Account, 0, len(list))
	for _, a := range list {
		out = append(out, s.account(a))
	}
	return out
}

// statuses converts statuses for a viewer. The caller has already checked that the
// viewer may see them.
func (s *Server) statuses(ctx context.Context, v community.Viewer, list []community.Status) ([]Status, error) {
	return s.statusesFiltered(ctx, v, list, nil)
}

// statusesFiltered is statuses with the viewer's active filters already loaded (nil:
// load them).
func (s *Server) statusesFiltered(ctx context.Context, v community.Viewer, list []community.Status, filters *community.FilterSet) ([]Status, error) {
	d, err := s.community.LoadStatusDetails(ctx, v, list)
	if err != nil {
		return nil, err
	}
	apps, err := s.statusApps(ctx, list, d)
	if err != nil {
		return nil, err
	}
	if filters == nil {
		if filters, err = s.community.ActiveFilters(ctx, v.AccountID()); err != nil {
			return nil, err
		}
	}
	out := make([]Status, 0, len(list))
	for i := range list {
		st, ok := s.statusWith(v, &list[i], d, apps, filters)
		if ok {
			out = append(out, st)
		}
	}
	if err := s.addIdeas(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// statusApps loads the applications the statuses (and those they reblog) were posted with.
func (s *Server) statusApps(ctx context.Context, list []community.Status, d *community.StatusDetails) (map[int64]*auth.Application, error) {
	var appIDs []int64
	for _, st := range list {
		if st.ApplicationID != nil {
			appIDs = append(appIDs, *st.ApplicationID)
		}
	}
	for _, st := range d.Statuses {
		if st.ApplicationID != nil {
			appIDs = append(appIDs, *st.ApplicationID)
		}
	}
	return s.auth.ApplicationsByID(ctx, appIDs)
}

// status converts one status for a viewer.
func (s *Server) status(ctx context.Context, v community.Viewer, st *community.Status) (Status, error) {
	list, err := s.statuses(ctx, v, []community.Status{*st})
	if err != nil {
		return Status{}, err
	}
	if len(list) == 0 {
		return Status{}, community.ErrNotFound
	}
	return list[0], nil
}

// statusWith converts one status with its details, for viewer v whose active filters
// are filters (their matches go into "filtered").
func (s *Server) statusWith(v community.Viewer, st *community.Status, d *community.StatusDetails, apps map[int64]*auth.Application, filters *community.FilterSet) (Status, bool) {
	author := d.Accounts[st.AccountID]
	if author == nil {
		return Status{}, false
	}
	out := Status{
		ID:                 community.FormatID(st.ID),
		URI:                st.URI,
		CreatedAt:          apiTime(st.CreatedAt),
		EditedAt:           apiTimePtr(st.EditedAt),
		Account:            s.account(author),
		Content:            st.Content,
		Visibility:         string(st.Visibility),
		Sensitive:          st.Sensitive,
		SpoilerText:        st.SpoilerText,
		MediaAttachments:   []MediaAttachment{},
		Mentions:           []StatusMention{},
		Tags:               []StatusTag{},
		Emojis:             []CustomEmoji{},
		ReblogsCount:       st.ReblogsCount,
		FavouritesCount:    st.FavouritesCount,
		RepliesCount:       st.RepliesCount,
		InReplyToID:        idPtr(st.InReplyToID),
		InReplyToAccountID: idPtr(st.InReplyToAccountID),
		LocalOnly:          st.Scope == community.ScopeDepartment,
		Tacit:              StatusTacit{Scope: string(st.Scope)},
	}
	if st.URL != "" {
		out.URL = strPtr(st.URL)
	}
	if st.Language != "" {
		out.Language = strPtr(st.Language)
	}
	if st.ApplicationID != nil {
		if app := apps[*st.ApplicationID]; app != nil {
			out.Application = &Application{Name: app.Name}
			if app.Website != "" {
				out.Application.Website = strPtr(app.Website)
			}
		}
	}
	if st.ReblogOfID != nil {
		orig := d.Statuses[*st.ReblogOfID]
		if orig == nil {
			return Status{}, false
		}
		inner, ok := s.statusWith(v, orig, d, apps, filters)
		if !ok {
			return Status{}, false
		}
		out.Reblog = &inner
		out.Content = ""
	}
	for _, id := range d.Mentions[st.ID] {
		if a := d.Accounts[id]; a != nil {
			out.Mentions = append(out.Mentions, StatusMention{
				ID: community.FormatID(a.ID), Username: a.Username, URL: a.URL, Acct: a.Acct(),
			})
		}
	}
	for _, t := range d.Tags[st.ID] {
		out.Tags = append(out.Tags, StatusTag{Name: t.Name, URL: s.community.TagURL(t.Name)})
	}
	for i := range d.Media[st.ID] {
		out.MediaAttachments = append(out.MediaAttachments, s.mediaAttachment(&d.Media[st.ID][i]))
	}
	if p := d.Polls[st.ID]; p != nil {
		out.Poll = s.poll(v, p, d.OwnVotes[p.ID])
	}
	if v.AccountID() != 0 {
		// A reblog wrapper reports the viewer's relation to the status it shares, as
		// Mastodon does: clients draw the buttons from the outer object.
		subject := st.ID
		if st.ReblogOfID != nil {
			subject = *st.ReblogOfID
		}
		out.Favourited = boolPtr(d.Favourited[subject])
		out.Reblogged = boolPtr(d.Reblogged[subject])
		out.Bookmarked = boolPtr(d.Bookmarked[subject])
		out.Muted = boolPtr(false)
		if st.AccountID == v.AccountID() {
			out.Pinned = boolPtr(d.Pinned[st.ID])
		}
		// A reblog carries the matches of the status it shares, as clients look at
		// either object.
		proper := st
		if st.ReblogOfID != nil {
			proper = d.Statuses[*st.ReblogOfID]
		}
		if matches := filters.Match(community.NewFilterTarget(proper), time.Now()); len(matches) > 0 {
			out.Filtered = filterResults(matches)
		}
	}
	return out, true
}

// filterResults converts the filters a status matched into FilterResult entities.
func filterResults(matches []community.FilterMatch) []FilterResult {
	out := make([]FilterResult, 0, len(matches))
	for _, m := range matches {
		r := FilterResult{Filter: filterEntity(m.Filter), KeywordMatches: m.Keywords, StatusMatches: []string{}}
		if r.KeywordMatches == nil {
			r.KeywordMatches = []string{}
		}
		for _, id := range m.StatusIDs {
			r.StatusMatches = append(r.StatusMatches, community.FormatID(id))
		}
		out = append(out, r)
	}
	return out
}
