package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// Archiver writes archives of the accounts of one instance.
type Archiver struct {
	// Community reads the person's data.
	Community *community.Service
	// CompanyURI is the instance's company collection, which addresses company-scope
	// posts (federation.Federator.CompanyURI).
	CompanyURI string
	// Log receives what could not be put in an archive (a file missing from the store);
	// nil means slog.Default().
	Log *slog.Logger
}

// statusPage is how many statuses the archive renders at a time.
const statusPage = 200

// Write writes owner's archive to w as a zip file. owner is the person, or the account
// an admin exports on the person's request.
func (a *Archiver) Write(ctx context.Context, w io.Writer, owner *community.Account) error {
	if !owner.IsLocal() {
		return fmt.Errorf("export: %s is not an account of this instance", owner.Acct())
	}
	z := zip.NewWriter(w)
	files, err := a.writeOutbox(ctx, z, owner)
	if err != nil {
		return err
	}
	for _, m := range files {
		if err := a.copyMedia(ctx, z, owner, m, mediaPath(&m)); err != nil {
			return err
		}
	}
	if err := a.writeActor(ctx, z, owner); err != nil {
		return err
	}
	likes, err := a.Community.OwnFavouriteURIs(ctx, owner)
	if err != nil {
		return err
	}
	if err := writeJSON(z, "likes.json", uriCollection("likes.json", likes)); err != nil {
		return err
	}
	bookmarks, err := a.Community.OwnBookmarkURIs(ctx, owner)
	if err != nil {
		return err
	}
	if err := writeJSON(z, "bookmarks.json", uriCollection("bookmarks.json", bookmarks)); err != nil {
		return err
	}
	for _, name := range CSVNames {
		data, err := a.CSV(ctx, owner, name)
		if err != nil {
			return err
		}
		if err := writeFile(z, name, data); err != nil {
			return err
		}
	}
	return z.Close()
}

// writeOutbox writes outbox.json, page by page of statuses, and returns the uploads
// its activities point at, for the archive to carry.
func (a *Archiver) writeOutbox(ctx context.Context, z *zip.Writer, owner *community.Account) ([]community.MediaAttachment, error) {
	f, err := z.CreateHeader(&zip.FileHeader{Name: "outbox.json", Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("export: outbox: %w", err)
	}
	head, err := json.Marshal(map[string]any{"@context": activitystreams.Context(), "id": "outbox.json", "type": "OrderedCollection"})
	if err != nil {
		return nil, err
	}
	// The collection is written as it is read, so that an archive of years of posts
	// never sits whole in memory; totalItems comes last, once counted.
	if _, err := f.Write(append(head[:len(head)-1], []byte(`,"orderedItems":[`)...)); err != nil {
		return nil, err
	}
	var files []community.MediaAttachment
	total, after := 0, int64(0)
	for {
		page, err := a.Community.OwnStatuses(ctx, owner, after, statusPage)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		items, media, err := a.renderPage(ctx, owner, page)
		if err != nil {
			return nil, err
		}
		files = append(files, media...)
		for _, item := range items {
			if total > 0 {
				if _, err := f.Write([]byte(",")); err != nil {
					return nil, err
				}
			}
			if _, err := f.Write(item); err != nil {
				return nil, err
			}
			total++
		}
	}
	if _, err := fmt.Fprintf(f, `],"totalItems":%d}`, total); err != nil {
		return nil, err
	}
	return files, nil
}

// writeActor writes actor.json and the avatar and header it points at.
func (a *Archiver) writeActor(ctx context.Context, z *zip.Writer, owner *community.Account) error {
	_, pub, err := a.Community.AccountKeys(ctx, owner.ID)
	if err != nil {
		return err
	}
	featured, err := a.Community.FeaturedTagNames(ctx, []int64{owner.ID})
	if err != nil {
		return err
	}
	body, err := activitystreams.ActorJSON(activitystreams.Actor{
		Account: owner, PublicKeyPEM: pub, Following: owner.URI + "/following", Outbox: owner.URI + "/outbox",
		Featured: owner.URI + "/collections/featured", FeaturedTags: featured[owner.ID], TagURL: a.Community.TagURL,
	})
	if err != nil {
		return fmt.Errorf("export: actor: %w", err)
	}
	var actor map[string]any
	if err := json.Unmarshal(body, &actor); err != nil {
		return err
	}
	// As in Mastodon's archives, the actor points at the files beside it.
	actor["outbox"], actor["likes"], actor["bookmarks"] = "outbox.json", "likes.json", "bookmarks.json"
	// ActivityStreams has likes but no bookmarks: Tacit's vocabulary names it, so that
	// a JSON-LD reader keeps it too.
	if ctx, ok := actor["@context"].([]any); ok {
		actor["@context"] = append(ctx, map[string]any{"bookmarks": map[string]any{"@id": "tacit:bookmarks", "@type": "@id"}})
	}
	for _, img := range []struct {
		key, name string
		purpose   community.MediaPurpose
	}{{"icon", "avatar", community.PurposeAvatar}, {"image", "header", community.PurposeHeader}} {
		m, err := a.Community.OwnProfileImage(ctx, owner, img.purpose)
		if err != nil {
			return err
		}
		doc, _ := actor[img.key].(map[string]any)
		if m == nil || doc == nil {
			continue
		}
		name := img.name + path.Ext(m.OriginalName)
		if err := a.copyMedia(ctx, z, owner, *m, name); err != nil {
			return err
		}
		doc["url"] = name
	}
	return writeJSON(z, "actor.json", actor)
}

// copyMedia copies one upload into the archive; a file the store lost is logged and
// left out rather than failing the whole archive.
func (a *Archiver) copyMedia(ctx context.Context, z *zip.Writer, owner *community.Account, m community.MediaAttachment, name string) error {
	src, err := a.Community.OpenOwnMedia(ctx, owner, &m)
	if community.KindOf(err) == community.KindNotFound {
		a.log().WarnContext(ctx, "export: media file missing", "media_id", m.ID, "account_id", owner.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: open media %d: %w", m.ID, err)
	}
	defer src.Close()
	// Pictures are compressed already.
	dst, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: m.CreatedAt})
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		return fmt.Errorf("export: copy media %d: %w", m.ID, err)
	}
	return nil
}

func (a *Archiver) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// mediaPath is where an upload sits in the archive, in the layout of Mastodon's.
func mediaPath(m *community.MediaAttachment) string {
	return "media_attachments/files/" + community.FormatID(m.ID) + "/original/" + path.Base(m.OriginalName)
}

// uriCollection is an OrderedCollection of ids, as likes.json and bookmarks.json.
func uriCollection(id string, uris []string) map[string]any {
	return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "OrderedCollection",
		"totalItems": len(uris), "orderedItems": uris}
}

func writeJSON(z *zip.Writer, name string, v any) error {
	data, err := marshal(v)
	if err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	return writeFile(z, name, data)
}

// marshal encodes v as JSON; content is HTML, and escaping every "<" would only make
// the archive harder to read.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func writeFile(z *zip.Writer, name string, data []byte) error {
	f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	return nil
}

// errSkip marks a status the outbox leaves out.
var errSkip = errors.New("export: skipped")
