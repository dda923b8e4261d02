package media

import (
	"context"
	"time"
)

// Observer is told how long each picture took to process, by kind ("attachment" for
// Process, "cover" for ProcessCover), and whether it failed.
type Observer func(kind string, took time.Duration, err error)

type observerKey struct{}

// WithObserver returns a context whose pictures are reported to o. Processing is
// called from the domain on behalf of a request or a worker, so the instance that owns
// them puts its observer in their context; several instances may share a process.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// observe reports a processing that started at start to ctx's observer, if any.
func observe(ctx context.Context, kind string, start time.Time, err error) {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok && o != nil {
		o(kind, time.Since(start), err)
	}
}
