package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// SlowQueryThreshold is the duration above which a query is logged as slow.
const SlowQueryThreshold = 200 * time.Millisecond

// gormLogger adapts gorm's logger.Interface to slog.
//
// It logs, through slog:
//   - queries slower than SlowQueryThreshold, at Warn;
//   - failed queries at Error, except gorm.ErrRecordNotFound (silenced) and the
//     outcomes callers routinely expect and handle — unique and foreign-key
//     violations, cancelled contexts — which go to Debug.
//
// The SQL is logged with placeholders, never with the bound values (see
// ParamsFilter): rows hold password hashes, private keys, e-mail addresses and
// token hashes.
type gormLogger struct {
	log   *slog.Logger
	level gormlogger.LogLevel
}

var (
	_ gormlogger.Interface = (*gormLogger)(nil)
	_ gorm.ParamsFilter    = (*gormLogger)(nil)
)

func newGormLogger(l *slog.Logger) *gormLogger {
	return &gormLogger{log: l, level: gormlogger.Warn}
}

// LogMode implements logger.Interface; gorm uses it to silence itself (Silent) or to
// turn on statement tracing (Info, which this adapter logs at Debug).
func (l *gormLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	c := *l
	c.level = level
	return &c
}

// Info implements logger.Interface.
func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if l.level >= gormlogger.Info {
		l.log.InfoContext(ctx, "gorm: "+fmt.Sprintf(msg, args...))
	}
}

// Warn implements logger.Interface.
func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if l.level >= gormlogger.Warn {
		l.log.WarnContext(ctx, "gorm: "+fmt.Sprintf(msg, args...))
	}
}

// Error implements logger.Interface.
func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if l.level >= gormlogger.Error {
		l.log.ErrorContext(ctx, "gorm: "+fmt.Sprintf(msg, args...))
	}
}

// Trace implements logger.Interface: it is called after every statement.
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (sql string, rowsAffected int64), err error) {
	if l.level <= gormlogger.Silent {
		return
	}
	elapsed := time.Since(begin)
	switch {
	case err != nil && errors.Is(err, gorm.ErrRecordNotFound):
		return
	case err != nil && l.level >= gormlogger.Error:
		level := slog.LevelError
		if expectedError(err) {
			level = slog.LevelDebug
		}
		if !l.log.Enabled(ctx, level) {
			return
		}
		sql, rows := fc()
		l.log.Log(ctx, level, "database query failed",
			"err", err, "sql", sql, "rows", rows, "duration_ms", ms(elapsed))
	case elapsed > SlowQueryThreshold && l.level >= gormlogger.Warn:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow database query",
			"sql", sql, "rows", rows, "duration_ms", ms(elapsed), "threshold_ms", ms(SlowQueryThreshold))
	case l.level >= gormlogger.Info:
		if !l.log.Enabled(ctx, slog.LevelDebug) {
			return
		}
		sql, rows := fc()
		l.log.DebugContext(ctx, "database query", "sql", sql, "rows", rows, "duration_ms", ms(elapsed))
	}
}

// ParamsFilter implements gorm.ParamsFilter: the logged SQL keeps its placeholders
// and drops the values.
func (l *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// expectedError reports whether err is an outcome callers handle as part of normal
// operation (a lost race on a unique key, a client that went away).
func expectedError(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) ||
		errors.Is(err, gorm.ErrForeignKeyViolated) ||
		errors.Is(err, context.Canceled)
}

// ms is a duration in milliseconds with microseconds kept, as every log line gives
// durations.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
