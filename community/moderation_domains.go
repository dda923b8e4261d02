package community

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Domain rules: the domains federation is cut from (blocks) or opened to (allows), set
// by the instance's moderators and written to the audit log. Federation asks about a
// host on every request, so the rules are kept in memory and replaced whenever a
// moderator changes them.

// DomainSeverity is how far a domain block goes.
type DomainSeverity string

// Domain block severities, as Mastodon's.
const (
	// SeveritySuspend cuts federation with the domain: nothing is received from it,
	// delivered to it, or fetched from it (Tacit's default).
	SeveritySuspend DomainSeverity = "suspend"
	// SeveritySilence keeps the domain's posts out of public timelines.
	SeveritySilence DomainSeverity = "silence"
	// SeverityNoop only applies the reject_media and reject_reports flags.
	SeverityNoop DomainSeverity = "noop"
)

type domainRules struct {
	blocks map[string]DomainBlock
	allows map[string]bool
}

// domainCache holds the rules; loaded on first use.
type domainCache struct {
	mu    sync.RWMutex
	rules *domainRules
}

func (s *Service) rules() *domainRules {
	s.domains.mu.RLock()
	r := s.domains.rules
	s.domains.mu.RUnlock()
	if r != nil {
		return r
	}
	if err := s.reloadDomainRules(context.Background()); err != nil {
		s.log.Error("load domain rules", "err", err)
		return &domainRules{}
	}
	s.domains.mu.RLock()
	defer s.domains.mu.RUnlock()
	return s.domains.rules
}

// reloadDomainRules reads the rules from the database into memory.
func (s *Service) reloadDomainRules(ctx context.Context) error {
	var blocks []DomainBlock
	if err := s.read(ctx).Find(&blocks).Error; err != nil {
		return fmt.Errorf("load domain blocks: %w", err)
	}
	var allows []DomainAllow
	if err := s.read(ctx).Find(&allows).Error; err != nil {
		return fmt.Errorf("load domain allows: %w", err)
	}
	r := &domainRules{blocks: make(map[string]DomainBlock, len(blocks)), allows: make(map[string]bool, len(allows))}
	for _, b := range blocks {
		r.blocks[b.Domain] = b
	}
	for _, a := range allows {
		r.allows[a.Domain] = true
	}
	s.domains.mu.Lock()
	s.domains.rules = r
	s.domains.mu.Unlock()
	return nil
}

// domainCandidates are the names a host matches rules under: itself, itself without
// its port, and its parent domains (a rule for example.com covers a.example.com).
func domainCandidates(host string) []string {
	host = strings.ToLower(strings.TrimSpace(host))
	out := []string{host}
	name := host
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "[") {
		name = h
		out = append(out, name)
	}
	for {
		_, parent, ok := strings.Cut(name, ".")
		if !ok || !strings.Contains(parent, ".") {
			break
		}
		out = append(out, parent)
		name = parent
	}
	return out
}

// domainBlock returns the block that covers host, or nil.
func (s *Service) domainBlock(host string) *DomainBlock {
	r := s.rules()
	if len(r.blocks) == 0 {
		return nil
	}
	for _, d := range domainCandidates(host) {
		if b, ok := r.blocks[d]; ok {
			return &b
		}
	}
	return nil
}

// DomainBlocked reports whether federation with host is cut (a suspend block).
func (s *Service) DomainBlocked(host string) bool {
	b := s.domainBlock(host)
	return b != nil && DomainSeverity(b.Severity) == SeveritySuspend
}

// DomainAllowed reports whether host was opened to federation by a domain allow.
func (s *Service) DomainAllowed(host string) bool {
	r := s.rules()
	for _, d := range domainCandidates(host) {
		if r.allows[d] {
			return true
		}
	}
	return false
}

// NormalizeDomain checks and lowercases a domain as moderators type it: a host name,
// possibly with a port, without scheme or path.
func NormalizeDomain(raw string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(raw))
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	d = strings.TrimSuffix(d, "/")
	if d == "" {
		return "", Invalid("Domain can't be blank")
	}
	u, err := url.Parse("http://" + d)
	if err != nil || u.Host != d || u.User != nil || strings.ContainsAny(d, "/?#@ *") || len(d) > 253 {
		return "", Invalid("%q is not a domain name", raw)
	}
	return d, nil
}

// DomainBlockInput is a domain block as moderators set it; nil fields keep their
// value on update.
type DomainBlockInput struct {
	Domain         string
	Severity       *DomainSeverity
	RejectMedia    *bool
	RejectReports  *bool
	PrivateComment *string
	PublicComment  *string
	Obfuscate      *bool
}

// DomainRulesChanged: a domain block or allow changed, so that adapters caching
// connections or keys for the domain drop them.
type DomainRulesChanged struct{ Domain string }

func (DomainRulesChanged) eventName() string { return "domain.rules" }

// ListDomainBlocks lists the domain blocks, newest first.
func (s *Service) ListDomainBlocks(ctx context.Context, actor *Account, p Page) ([]DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	return findPage[DomainBlock](s.read(ctx).Model(&DomainBlock{}), p.Normalize(100, 200), "id", "domain blocks")
}

// GetDomainBlock returns one domain block.
func (s *Service) GetDomainBlock(ctx context.Context, actor *Account, id int64) (*DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	var b DomainBlock
	if err := s.read(ctx).Take(&b, id).Error; err != nil {
		return nil, notFound(err, "domain block")
	}
	return &b, nil
}

func applyBlockInput(b *DomainBlock, in DomainBlockInput) error {
	if in.Severity != nil {
		switch *in.Severity {
		case SeveritySuspend, SeveritySilence, SeverityNoop:
			b.Severity = string(*in.Severity)
		default:
			return Invalid("Severity %q is not one of silence, suspend, noop", *in.Severity)
		}
	}
	if in.RejectMedia != nil {
		b.RejectMedia = *in.RejectMedia
	}
	if in.RejectReports != nil {
		b.RejectReports = *in.RejectReports
	}
	if in.PrivateComment != nil {
		b.PrivateComment = truncateRunes(*in.PrivateComment, MaxModerationReason)
	}
	if in.PublicComment != nil {
		b.PublicComment = truncateRunes(*in.PublicComment, MaxModerationReason)
	}
	if in.Obfuscate != nil {
		b.Obfuscate = *in.Obfuscate
	}
	return nil
}

// ErrDomainBlockExists is returned when a domain is blocked already.
var ErrDomainBlockExists = Conflict("This domain is already blocked")

// CreateDomainBlock blocks a domain; with the default severity (suspend) federation
// with it stops at once.
func (s *Service) CreateDomainBlock(ctx context.Context, actor *Account, in DomainBlockInput) (*DomainBlock, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	domain, err := NormalizeDomain(in.Domain)
	if err != nil {
		return nil, err
	}
	if domain == strings.ToLower(s.host) {
		return nil, Invalid("An instance cannot block itself")
	}
	now := s.clock()
	b := &DomainBlock{ID: NewID(), Domain: domain, Severity: string(SeveritySuspend), CreatedAt: now, UpdatedAt: now}
	if err := applyBlockInput(b, in); err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(b)
		if res.Error != nil {
			return fmt.Errorf("create domain block: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrDomainBlockExists
		}
		*ev = append(*ev, DomainRulesChanged{Domain: domain})
		return s.logStaffAction(tx, actor, ActionBlockDomain, domain, b.PrivateComment, b.Severity)
	})
	if err != nil {
		return nil, err
	}
	return b, s.reloadDomainRules(ctx)
}

// UpdateDomainBlock changes a domain block.
func (s *Service) UpdateDomainBlock(ctx context.Context, actor *Account, id int64, in DomainBlockInput) (*DomainBlock, error) {
	b, err := s.GetDomainBlock(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := applyBlockInput(b, in); err != nil {
		return nil, err
	}
	b.UpdatedAt = s.clock()
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Model(&DomainBlock{}).Where("id = ?", id).Select("severity", "reject_media", "reject_reports",
			"private_comment", "public_comment", "obfuscate", "updated_at").Updates(b).Error; err != nil {
			return fmt.Errorf("update domain block: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: b.Domain})
		return s.logStaffAction(tx, actor, ActionUpdateBlock, b.Domain, b.PrivateComment, b.Severity)
	})
	if err != nil {
		return nil, err
	}
	return b, s.reloadDomainRules(ctx)
}

// DeleteDomainBlock lifts a domain block.
func (s *Service) DeleteDomainBlock(ctx context.Context, actor *Account, id int64) error {
	b, err := s.GetDomainBlock(ctx, actor, id)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Delete(&DomainBlock{}, id).Error; err != nil {
			return fmt.Errorf("delete domain block: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: b.Domain})
		return s.logStaffAction(tx, actor, ActionUnblockDomain, b.Domain, "", "")
	})
	if err != nil {
		return err
	}
	return s.reloadDomainRules(ctx)
}

// ListDomainAllows lists the domain allows, newest first.
func (s *Service) ListDomainAllows(ctx context.Context, actor *Account, p Page) ([]DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	return findPage[DomainAllow](s.read(ctx).Model(&DomainAllow{}), p.Normalize(100, 200), "id", "domain allows")
}

// GetDomainAllow returns one domain allow.
func (s *Service) GetDomainAllow(ctx context.Context, actor *Account, id int64) (*DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	var a DomainAllow
	if err := s.read(ctx).Take(&a, id).Error; err != nil {
		return nil, notFound(err, "domain allow")
	}
	return &a, nil
}

// CreateDomainAllow opens federation to a domain outside the company (world-scope
// content only, as in open mode); allowing it again returns the existing allow.
func (s *Service) CreateDomainAllow(ctx context.Context, actor *Account, domain string) (*DomainAllow, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	a := &DomainAllow{ID: NewID(), Domain: d, CreatedAt: s.clock()}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(a)
		if res.Error != nil {
			return fmt.Errorf("create domain allow: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return tx.Where("domain = ?", d).Take(a).Error
		}
		*ev = append(*ev, DomainRulesChanged{Domain: d})
		return s.logStaffAction(tx, actor, ActionAllowDomain, d, "", "")
	})
	if err != nil {
		return nil, err
	}
	return a, s.reloadDomainRules(ctx)
}

// DeleteDomainAllow closes a domain opened by an allow.
func (s *Service) DeleteDomainAllow(ctx context.Context, actor *Account, id int64) error {
	a, err := s.GetDomainAllow(ctx, actor, id)
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Delete(&DomainAllow{}, id).Error; err != nil {
			return fmt.Errorf("delete domain allow: %w", err)
		}
		*ev = append(*ev, DomainRulesChanged{Domain: a.Domain})
		return s.logStaffAction(tx, actor, ActionDisallowDomain, a.Domain, "", "")
	})
	if err != nil {
		return err
	}
	return s.reloadDomainRules(ctx)
}
