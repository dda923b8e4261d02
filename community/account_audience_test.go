package community

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestAccountRule states who may see which account, in company and open mode, for
// every kind of viewer, and checks CanSeeAccount, VisibleAccounts and the SQL form of
// the rule (visibleAccountSQL) against it.
func TestAccountRule(t *testing.T) {
	t.Parallel()
	relEach(t, func(t *testing.T, _ *Service, db *gorm.DB) {
		ctx := context.Background()
		peer := func(h string) bool { return h == "peer.example" }
		company := NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", Peers: peer})
		open := NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", Peers: peer, PublicProfiles: true})
		s := company

		person := storeAccount(t, s, "person")
		suspended := storeAccount(t, s, "suspended")
		if err := db.Create(&AccountSanction{AccountID: suspended.ID, Suspended: true, UpdatedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		boards := map[Scope]*Account{}
		for _, sc := range []Scope{ScopeWorld, ScopeCompany, ScopeDepartment} {
			a := storeAccount(t, s, "board_"+string(sc))
			if err := db.Model(a).Update("is_group", true).Error; err != nil {
				t.Fatal(err)
			}
			a.Group = true
			b := Board{AccountID: a.ID, Scope: sc, Local: true, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := db.Create(&b).Error; err != nil {
				t.Fatal(err)
			}
			boards[sc] = a
		}
		colleague := storeAccount(t, s, "colleague")
		peerUser := storeAccount(t, s, "pat", remoteAt("peer.example"))
		outsider := storeAccount(t, s, "otto", remoteAt("elsewhere.example"))

		viewers := map[string]Viewer{
			"colleague": AsAccount(colleague), "peer user": AsAccount(peerUser), "peer server": {Server: "peer.example"},
			"outsider": AsAccount(outsider), "outside server": {Server: "elsewhere.example"}, "logged out": Anonymous,
			"suspended itself": AsAccount(suspended),
		}
		accounts := map[string]*Account{"person": person, "suspended": suspended, "world board": boards[ScopeWorld],
			"company board": boards[ScopeCompany], "department board": boards[ScopeDepartment]}

		// The rule, stated independently.
		want := func(openMode bool, viewer, account string) bool {
			if viewer == "suspended itself" && account == "suspended" {
				return true
			}
			if account == "suspended" {
				return false
			}
			inCompany := viewer == "colleague" || viewer == "peer user" || viewer == "peer server" || viewer == "suspended itself"
			if !inCompany && !openMode {
				return false
			}
			switch account {
			case "company board":
				return inCompany
			case "department board":
				return viewer == "colleague" || viewer == "suspended itself"
			}
			return true
		}
		all := []*Account{person, suspended, boards[ScopeWorld], boards[ScopeCompany], boards[ScopeDepartment]}
		for _, mode := range []struct {
			name string
			s    *Service
			open bool
		}{{"company", company, false}, {"open", open, true}} {
			for vname, v := range viewers {
				visible, err := mode.s.VisibleAccounts(ctx, v, all)
				if err != nil {
					t.Fatal(err)
				}
				listed := map[int64]bool{}
				for _, a := range visible {
					listed[a.ID] = true
				}
				var ids []int64
				if err := db.Model(&Account{}).Scopes(mode.s.visibleAccountSQL(v)).Pluck("accounts.id", &ids).Error; err != nil {
					t.Fatal(err)
				}
				inSQL := map[int64]bool{}
				for _, id := range ids {
					inSQL[id] = true
				}
				for aname, a := range accounts {
					w := want(mode.open, vname, aname)
					got, err := mode.s.CanSeeAccount(ctx, v, a)
					if err != nil {
						t.Fatal(err)
					}
					if got != w || listed[a.ID] != w || inSQL[a.ID] != w {
						t.Errorf("%s mode, %s sees %s: CanSeeAccount %v, VisibleAccounts %v, SQL %v; want %v",
							mode.name, vname, aname, got, listed[a.ID], inSQL[a.ID], w)
					}
				}
			}
		}
	})
}
