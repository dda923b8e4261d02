package community

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FilterContext is where a filter applies: Mastodon's five places a status is shown.
type FilterContext string

// The filter contexts.
const (
	FilterHome          FilterContext = "home" // the home timeline and lists
	FilterNotifications FilterContext = "notifications"
	FilterPublic        FilterContext = "public" // public and hashtag timelines
	FilterThread        FilterContext = "thread" // a status's context
	FilterAccount       FilterContext = "account"
)

// FilterAction is what a client does with a matching status: show it behind a warning
// naming the filter, blur its media, or not show it at all. Tacit leaves hidden
// statuses out of the lists it serves, so clients never receive them.
type FilterAction string

// The filter actions.
const (
	FilterWarn FilterAction = "warn"
	FilterBlur FilterAction = "blur"
	FilterHide FilterAction = "hide"
)

// Limits on filters. Mastodon sets none; these keep matching a status cheap.
const (
	MaxFilters             = 100
	MaxFilterKeywords      = 100 // per filter
	MaxFilterStatuses      = 100 // per filter
	MaxFilterTitleRunes    = 200
	MaxFilterKeywordRunes  = 200
	maxFilterExpirySeconds = 10 * 365 * 24 * 3600
	minFilterExpirySeconds = 1
)

// filterContextsSeparator joins a filter's contexts in its column.
const filterContextsSeparator = ","

// FilterContexts is a filter's list of contexts, stored as comma-separated text.
type FilterContexts []FilterContext

// Value implements driver.Valuer.
func (c FilterContexts) Value() (driver.Value, error) {
	parts := make([]string, len(c))
	for i, x := range c {
		parts[i] = string(x)
	}
	return strings.Join(parts, filterContextsSeparator), nil
}

// Scan implements sql.Scanner.
func (c *FilterContexts) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("scan filter contexts: unexpected %T", src)
	}
	*c = FilterContexts{}
	for _, p := range strings.Split(text, filterContextsSeparator) {
		if p != "" {
			*c = append(*c, FilterContext(p))
		}
	}
	return nil
}

// Has reports whether the filter applies in context fc.
func (c FilterContexts) Has(fc FilterContext) bool { return slices.Contains(c, fc) }

// Filter is a user's filter: statuses matching its keywords, or listed in it, are
// warned about, blurred or hidden in its contexts until it expires.
type Filter struct {
	ID        int64          `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64          `gorm:"not null"`
	Title     string         `gorm:"not null"`
	Context   FilterContexts `gorm:"type:text;not null"`
	Action    FilterAction   `gorm:"not null;default:'warn'"`
	ExpiresAt *time.Time
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// Active reports whether the filter still applies at now.
func (f *Filter) Active(now time.Time) bool { return f.ExpiresAt == nil || f.ExpiresAt.After(now) }

// FilterKeyword is a word or phrase a filter matches, case-insensitively; with
// WholeWord it must not be part of a longer word.
type FilterKeyword struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	FilterID  int64     `gorm:"not null"`
	Keyword   string    `gorm:"not null"`
	WholeWord bool      `gorm:"not null"` // no gorm default: gorm would skip a false value on insert
	CreatedAt time.Time `gorm:"not null"`
}

// FilterStatus is a status a filter matches by id.
type FilterStatus struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	FilterID  int64     `gorm:"not null"`
	StatusID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// FilterInfo is a filter with its keywords and statuses, oldest first.
type FilterInfo struct {
	Filter
	Keywords []FilterKeyword
	Statuses []FilterStatus
}

// FiltersChanged: an account's filters changed; live feeds reload them and tell the
// account's clients, which refetch theirs.
type FiltersChanged struct{ AccountID int64 }

func (FiltersChanged) eventName() string { return "filters.changed" }

// KeywordInput adds, changes (ID set) or removes (ID and Destroy set) a keyword.
type KeywordInput struct {
	ID        int64
	Keyword   string
	WholeWord *bool
	Destroy   bool
}

// FilterInput creates or changes a filter. Nil fields keep their value (or take the
// default on creation); an ExpiresIn of 0 means never.
type FilterInput struct {
	Title     *string
	Context   []FilterContext // nil keeps; empty is refused
	Action    *FilterAction
	ExpiresIn *time.Duration
	Keywords  []KeywordInput
}

// ParseFilterContext checks a context name.
func ParseFilterContext(raw string) (FilterContext, error) {
	switch c := FilterContext(raw); c {
	case FilterHome, FilterNotifications, FilterPublic, FilterThread, FilterAccount:
		return c, nil
	}
	return "", Invalid("Validation failed: Context %q is not one of home, notifications, public, thread, account", raw)
}

func validateFilterTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "", Invalid("Validation failed: Title can't be blank")
	}
	if utf8.RuneCountInString(t) > MaxFilterTitleRunes {
		return "", Invalid("Validation failed: Title is too long (maximum is %d characters)", MaxFilterTitleRunes)
	}
	return t, nil
}

func validateKeyword(k string) (string, error) {
	k = strings.TrimSpace(k)
	if k == "" {
		return "", Invalid("Validation failed: Keyword can't be blank")
	}
	if utf8.RuneCountInString(k) > MaxFilterKeywordRunes {
		return "", Invalid("Validation failed: Keyword is too long (maximum is %d characters)", MaxFilterKeywordRunes)
	}
	return k, nil
}

// applyFilterInput validates in and writes it onto f.
func (s *Service) applyFilterInput(f *Filter, in FilterInput) error {
	if in.Title != nil {
		t, err := validateFilterTitle(*in.Title)
		if err != nil {
			return err
		}
		f.Title = t
	}
	if in.Context != nil {
		var ctxs FilterContexts
		for _, c := range in.Context {
			c, err := ParseFilterContext(string(c))
			if err != nil {
				return err
			}
			if !ctxs.Has(c) {
				ctxs = append(ctxs, c)
			}
		}
		if len(ctxs) == 0 {
			return Invalid("Validation failed: Context can't be blank")
		}
		f.Context = ctxs
	}
	if in.Action != nil {
		switch a := *in.Action; a {
		case FilterWarn, FilterBlur, FilterHide:
			f.Action = a
		default:
			return Invalid("Validation failed: Filter action %q is not one of warn, blur, hide", a)
		}
	}
	if in.ExpiresIn != nil {
		switch secs := int64(in.ExpiresIn.Seconds()); {
		case secs == 0:
			f.ExpiresAt = nil
		case secs < minFilterExpirySeconds || secs > maxFilterExpirySeconds:
			return Invalid("Validation failed: Expires in must be between %d and %d seconds", minFilterExpirySeconds, maxFilterExpirySeconds)
		default:
			at := s.clock().Add(*in.ExpiresIn)
			f.ExpiresAt = &at
		}
	}
	return nil
}

// Filters lists the owner's filters (expired ones too, as Mastodon does), oldest first.
func (s *Service) Filters(ctx context.Context, owner *Account) ([]FilterInfo, error) {
	if owner == nil {
		return nil, ErrForbidden
	}
	var filters []Filter
	if err := s.read(ctx).Where("account_id = ?", owner.ID).Order("id").Find(&filters).Error; err != nil {
		return nil, fmt.Errorf("load filters: %w", err)
	}
	return s.filterInfos(s.read(ctx), filters)
}

func (s *Service) filterInfos(db *gorm.DB, filters []Filter) ([]FilterInfo, error) {
	out := make([]FilterInfo, len(filters))
	if len(filters) == 0 {
		return out, nil
	}
	ids := make([]int64, len(filters))
	index := make(map[int64]int, len(filters))
	for i, f := range filters {
		ids[i] = f.ID
		index[f.ID] = i
		out[i] = FilterInfo{Filter: f, Keywords: []FilterKeyword{}, Statuses: []FilterStatus{}}
	}
	var keywords []FilterKeyword
	if err := db.Where("filter_id IN ?", ids).Order("id").Find(&keywords).Error; err != nil {
		return nil, fmt.Errorf("load filter keywords: %w", err)
	}
	for _, k := range keywords {
		i := index[k.FilterID]
		out[i].Keywords = append(out[i].Keywords, k)
	}
	var statuses []FilterStatus
	if err := db.Where("filter_id IN ?", ids).Order("id").Find(&statuses).Error; err != nil {
		return nil, fmt.Errorf("load filter statuses: %w", err)
	}
	for _, st := range statuses {
		i := index[st.FilterID]
		out[i].Statuses = append(out[i].Statuses, st)
	}
	return out, nil
}

// GetFilter returns one of the owner's filters.
func (s *Service) GetFilter(ctx context.Context, owner *Account, id int64) (*FilterInfo, error) {
	return s.getFilter(s.read(ctx), owner, id)
}

func (s *Service) getFilter(db *gorm.DB, owner *Account, id int64) (*FilterInfo, error) {
	if owner == nil {
		return nil, ErrNotFound
	}
	var f Filter
	if err := db.Where("id = ? AND account_id = ?", id, owner.ID).Take(&f).Error; err != nil {
		return nil, notFound(err, "filter")
	}
	infos, err := s.filterInfos(db, []Filter{f})
	if err != nil {
		return nil, err
	}
	return &infos[0], nil
}

// filterTx runs a change to owner's filters and announces it.
func (s *Service) filterTx(ctx context.Context, owner *Account, fn func(tx *gorm.DB) error) error {
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := fn(tx); err != nil {
			return err
		}
		*ev = append(*ev, FiltersChanged{AccountID: owner.ID})
		return nil
	})
}

// CreateFilter makes a filter with its keywords. Title and context are required; the
// action defaults to warn.
func (s *Service) CreateFilter(ctx context.Context, owner *Account, in FilterInput) (*FilterInfo, error) {
	if owner == nil {
		return nil, ErrForbidden
	}
	if in.Title == nil {
		return nil, Invalid("Validation failed: Title can't be blank")
	}
	if len(in.Context) == 0 {
		return nil, Invalid("Validation failed: Context can't be blank")
	}
	now := s.clock()
	f := Filter{ID: NewID(), AccountID: owner.ID, Action: FilterWarn, CreatedAt: now, UpdatedAt: now}
	if err := s.applyFilterInput(&f, in); err != nil {
		return nil, err
	}
	var out *FilterInfo
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Filter{}).Where("account_id = ?", owner.ID).Count(&n).Error; err != nil {
			return fmt.Errorf("count filters: %w", err)
		}
		if n >= MaxFilters {
			return Invalid("Validation failed: You cannot have more than %d filters", MaxFilters)
		}
		if err := tx.Create(&f).Error; err != nil {
			return fmt.Errorf("create filter: %w", err)
		}
		if err := s.changeKeywords(tx, f.ID, in.Keywords); err != nil {
			return err
		}
		var err error
		out, err = s.getFilter(tx, owner, f.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateFilter changes one of the owner's filters and, through in.Keywords, adds,
// changes or removes its keywords.
func (s *Service) UpdateFilter(ctx context.Context, owner *Account, id int64, in FilterInput) (*FilterInfo, error) {
	var out *FilterInfo
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		cur, err := s.getFilter(tx, owner, id)
		if err != nil {
			return err
		}
		f := cur.Filter
		if err := s.applyFilterInput(&f, in); err != nil {
			return err
		}
		f.UpdatedAt = s.clock()
		if err := tx.Model(&Filter{}).Where("id = ?", f.ID).
			Select("title", "context", "action", "expires_at", "updated_at").Updates(&f).Error; err != nil {
			return fmt.Errorf("update filter: %w", err)
		}
		if err := s.changeKeywords(tx, f.ID, in.Keywords); err != nil {
			return err
		}
		out, err = s.getFilter(tx, owner, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeKeywords applies keyword changes to a filter inside tx.
func (s *Service) changeKeywords(tx *gorm.DB, filterID int64, changes []KeywordInput) error {
	now := s.clock()
	for _, k := range changes {
		switch {
		case k.ID != 0 && k.Destroy:
			if err := tx.Where("id = ? AND filter_id = ?", k.ID, filterID).Delete(&FilterKeyword{}).Error; err != nil {
				return fmt.Errorf("delete filter keyword: %w", err)
			}
		case k.ID != 0:
			changes := map[string]any{}
			if k.Keyword != "" {
				word, err := validateKeyword(k.Keyword)
				if err != nil {
					return err
				}
				changes["keyword"] = word
			}
			if k.WholeWord != nil {
				changes["whole_word"] = *k.WholeWord
			}
			if len(changes) == 0 {
				continue
			}
			res := tx.Model(&FilterKeyword{}).Where("id = ? AND filter_id = ?", k.ID, filterID).Updates(changes)
			if res.Error != nil {
				return fmt.Errorf("update filter keyword: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return ErrNotFound
			}
		case k.Destroy:
			// Removing a keyword that was never stored: nothing to do.
		default:
			word, err := validateKeyword(k.Keyword)
			if err != nil {
				return err
			}
			whole := true
			if k.WholeWord != nil {
				whole = *k.WholeWord
			}
			if err := tx.Create(&FilterKeyword{ID: NewID(), FilterID: filterID, Keyword: word, WholeWord: whole, CreatedAt: now}).Error; err != nil {
				return fmt.Errorf("create filter keyword: %w", err)
			}
		}
	}
	var n int64
	if err := tx.Model(&FilterKeyword{}).Where("filter_id = ?", filterID).Count(&n).Error; err != nil {
		return fmt.Errorf("count filter keywords: %w", err)
	}
	if n > MaxFilterKeywords {
		return Invalid("Validation failed: A filter cannot have more than %d keywords", MaxFilterKeywords)
	}
	return nil
}

// DeleteFilter removes one of the owner's filters with its keywords and statuses.
func (s *Service) DeleteFilter(ctx context.Context, owner *Account, id int64) error {
	if owner == nil {
		return ErrNotFound
	}
	return s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND account_id = ?", id, owner.ID).Delete(&Filter{})
		if res.Error != nil {
			return fmt.Errorf("delete filter: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// FilterKeywords lists a filter's keywords.
func (s *Service) FilterKeywords(ctx context.Context, owner *Account, filterID int64) ([]FilterKeyword, error) {
	f, err := s.GetFilter(ctx, owner, filterID)
	if err != nil {
		return nil, err
	}
	return f.Keywords, nil
}

// AddFilterKeyword adds a keyword to one of the owner's filters.
func (s *Service) AddFilterKeyword(ctx context.Context, owner *Account, filterID int64, keyword string, wholeWord *bool) (*FilterKeyword, error) {
	var out FilterKeyword
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		if _, err := s.getFilter(tx, owner, filterID); err != nil {
			return err
		}
		if err := s.changeKeywords(tx, filterID, []KeywordInput{{Keyword: keyword, WholeWord: wholeWord}}); err != nil {
			return err
		}
		return tx.Where("filter_id = ?", filterID).Order("id DESC").Take(&out).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// filterKeyword loads a keyword of one of the owner's filters.
func (s *Service) filterKeyword(db *gorm.DB, owner *Account, id int64) (*FilterKeyword, error) {
	if owner == nil {
		return nil, ErrNotFound
	}
	var k FilterKeyword
	err := db.Where("id = ? AND filter_id IN (?)", id,
		db.Session(&gorm.Session{NewDB: true}).Model(&Filter{}).Select("id").Where("account_id = ?", owner.ID)).Take(&k).Error
	if err != nil {
		return nil, notFound(err, "filter keyword")
	}
	return &k, nil
}

// GetFilterKeyword returns a keyword of one of the owner's filters.
func (s *Service) GetFilterKeyword(ctx context.Context, owner *Account, id int64) (*FilterKeyword, error) {
	return s.filterKeyword(s.read(ctx), owner, id)
}

// UpdateFilterKeyword changes a keyword; nil fields keep their value.
func (s *Service) UpdateFilterKeyword(ctx context.Context, owner *Account, id int64, keyword *string, wholeWord *bool) (*FilterKeyword, error) {
	var out *FilterKeyword
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		k, err := s.filterKeyword(tx, owner, id)
		if err != nil {
			return err
		}
		in := KeywordInput{ID: k.ID, WholeWord: wholeWord}
		if keyword != nil {
			if in.Keyword, err = validateKeyword(*keyword); err != nil {
				return err
			}
		}
		if err := s.changeKeywords(tx, k.FilterID, []KeywordInput{in}); err != nil {
			return err
		}
		out, err = s.filterKeyword(tx, owner, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteFilterKeyword removes a keyword from one of the owner's filters.
func (s *Service) DeleteFilterKeyword(ctx context.Context, owner *Account, id int64) error {
	return s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		k, err := s.filterKeyword(tx, owner, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&FilterKeyword{}, k.ID).Error; err != nil {
			return fmt.Errorf("delete filter keyword: %w", err)
		}
		return nil
	})
}

// FilterStatuses lists the statuses a filter matches by id.
func (s *Service) FilterStatuses(ctx context.Context, owner *Account, filterID int64) ([]FilterStatus, error) {
	f, err := s.GetFilter(ctx, owner, filterID)
	if err != nil {
		return nil, err
	}
	return f.Statuses, nil
}

// AddFilterStatus makes one of the owner's filters match a status the owner can see.
func (s *Service) AddFilterStatus(ctx context.Context, owner *Account, filterID, statusID int64) (*FilterStatus, error) {
	if _, err := s.GetStatus(ctx, AsAccount(owner), statusID); err != nil {
		return nil, err
	}
	out := FilterStatus{ID: NewID(), FilterID: filterID, StatusID: statusID, CreatedAt: s.clock()}
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		if _, err := s.getFilter(tx, owner, filterID); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&FilterStatus{}).Where("filter_id = ?", filterID).Count(&n).Error; err != nil {
			return fmt.Errorf("count filter statuses: %w", err)
		}
		if n >= MaxFilterStatuses {
			return Invalid("Validation failed: A filter cannot have more than %d statuses", MaxFilterStatuses)
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&out)
		if res.Error != nil {
			return fmt.Errorf("add filter status: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Invalid("Validation failed: Status has already been taken")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) filterStatus(db *gorm.DB, owner *Account, id int64) (*FilterStatus, error) {
	if owner == nil {
		return nil, ErrNotFound
	}
	var fs FilterStatus
	err := db.Where("id = ? AND filter_id IN (?)", id,
		db.Session(&gorm.Session{NewDB: true}).Model(&Filter{}).Select("id").Where("account_id = ?", owner.ID)).Take(&fs).Error
	if err != nil {
		return nil, notFound(err, "filter status")
	}
	return &fs, nil
}

// GetFilterStatus returns a status entry of one of the owner's filters.
func (s *Service) GetFilterStatus(ctx context.Context, owner *Account, id int64) (*FilterStatus, error) {
	return s.filterStatus(s.read(ctx), owner, id)
}

// DeleteFilterStatus removes a status entry from one of the owner's filters and
// returns it.
func (s *Service) DeleteFilterStatus(ctx context.Context, owner *Account, id int64) (*FilterStatus, error) {
	var out *FilterStatus
	err := s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		fs, err := s.filterStatus(tx, owner, id)
		if err != nil {
			return err
		}
		out = fs
		if err := tx.Delete(&FilterStatus{}, fs.ID).Error; err != nil {
			return fmt.Errorf("delete filter status: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// V1Filter is Mastodon's older filter model: one phrase. Tacit stores it as one keyword
// of a filter titled after the phrase; the v1 id is the keyword's id, as in Mastodon,
// and "irreversible" is the hide action.
type V1Filter struct {
	Keyword FilterKeyword
	Filter  Filter
}

// V1FilterInput creates or replaces a v1 filter.
type V1FilterInput struct {
	Phrase       string
	Context      []FilterContext
	WholeWord    bool
	Irreversible bool
	ExpiresIn    *time.Duration // nil or 0: never
}

// V1Filters lists the owner's filters as v1 filters: one per keyword.
func (s *Service) V1Filters(ctx context.Context, owner *Account) ([]V1Filter, error) {
	infos, err := s.Filters(ctx, owner)
	if err != nil {
		return nil, err
	}
	var out []V1Filter
	for _, f := range infos {
		for _, k := range f.Keywords {
			out = append(out, V1Filter{Keyword: k, Filter: f.Filter})
		}
	}
	return out, nil
}

// GetV1Filter returns the v1 filter with a keyword's id.
func (s *Service) GetV1Filter(ctx context.Context, owner *Account, id int64) (*V1Filter, error) {
	k, err := s.GetFilterKeyword(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	f, err := s.GetFilter(ctx, owner, k.FilterID)
	if err != nil {
		return nil, err
	}
	return &V1Filter{Keyword: *k, Filter: f.Filter}, nil
}

func (in V1FilterInput) filterInput() FilterInput {
	action := FilterWarn
	if in.Irreversible {
		action = FilterHide
	}
	expires := time.Duration(0)
	if in.ExpiresIn != nil {
		expires = *in.ExpiresIn
	}
	title := in.Phrase
	return FilterInput{Title: &title, Context: in.Context, Action: &action, ExpiresIn: &expires}
}

// CreateV1Filter stores a v1 filter: a filter with one keyword.
func (s *Service) CreateV1Filter(ctx context.Context, owner *Account, in V1FilterInput) (*V1Filter, error) {
	if _, err := validateKeyword(in.Phrase); err != nil {
		return nil, err
	}
	fin := in.filterInput()
	whole := in.WholeWord
	fin.Keywords = []KeywordInput{{Keyword: in.Phrase, WholeWord: &whole}}
	info, err := s.CreateFilter(ctx, owner, fin)
	if err != nil {
		return nil, err
	}
	return &V1Filter{Keyword: info.Keywords[0], Filter: info.Filter}, nil
}

// UpdateV1Filter replaces a v1 filter: its keyword, and the settings of the filter it
// belongs to.
func (s *Service) UpdateV1Filter(ctx context.Context, owner *Account, id int64, in V1FilterInput) (*V1Filter, error) {
	if _, err := validateKeyword(in.Phrase); err != nil {
		return nil, err
	}
	k, err := s.GetFilterKeyword(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	fin := in.filterInput()
	whole := in.WholeWord
	fin.Keywords = []KeywordInput{{ID: k.ID, Keyword: in.Phrase, WholeWord: &whole}}
	info, err := s.UpdateFilter(ctx, owner, k.FilterID, fin)
	if err != nil {
		return nil, err
	}
	for _, kw := range info.Keywords {
		if kw.ID == id {
			return &V1Filter{Keyword: kw, Filter: info.Filter}, nil
		}
	}
	return nil, ErrNotFound
}

// DeleteV1Filter removes a v1 filter's keyword, and its filter when nothing is left in
// it.
func (s *Service) DeleteV1Filter(ctx context.Context, owner *Account, id int64) error {
	return s.filterTx(ctx, owner, func(tx *gorm.DB) error {
		k, err := s.filterKeyword(tx, owner, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&FilterKeyword{}, k.ID).Error; err != nil {
			return fmt.Errorf("delete filter keyword: %w", err)
		}
		f, err := s.getFilter(tx, owner, k.FilterID)
		if err != nil {
			return err
		}
		if len(f.Keywords) == 0 && len(f.Statuses) == 0 {
			if err := tx.Delete(&Filter{}, f.ID).Error; err != nil {
				return fmt.Errorf("delete filter: %w", err)
			}
		}
		return nil
	})
}
