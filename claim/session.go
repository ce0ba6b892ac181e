package claim

import (
	"context"
	"errors"
	"time"

	"frontdesk/store"
)

// SessionLifetime bounds a customer's session. OWASP's session guidance for
// a low-risk account site: an idle timeout of minutes, an absolute one of
// hours, both enforced on the server.
type SessionLifetime struct {
	Idle     time.Duration // zero: DefaultSessionIdle
	Absolute time.Duration // zero: DefaultSessionAbsolute
}

const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
)

func (l SessionLifetime) withDefaults() SessionLifetime {
	if l.Idle <= 0 {
		l.Idle = DefaultSessionIdle
	}
	if l.Absolute <= 0 {
		l.Absolute = DefaultSessionAbsolute
	}
	return l
}

// Session errors. ErrSessionExpired lets the sign-in page say why the
// customer is there again; ErrNoSession is a missing, forged or revoked one.
var (
	ErrNoSession      = store.Errorf(store.EUNAUTHORIZED, "Sign in to see your account.")
	ErrSessionExpired = store.Errorf(store.EUNAUTHORIZED, "Your session ended after a period of inactivity or because it was open too long. Sign in again.")
)

// CustomerSession is a valid session with the ids every account query is
// scoped by. Nothing a browser sends besides the session cookie chooses them.
type CustomerSession struct {
	*store.Session
}

// Session returns the live session for a cookie's token. Expired sessions
// (idle longer than life.Idle, or older than their absolute end) are deleted
// and reported as ErrSessionExpired.
func (s *Service) Session(ctx context.Context, token string, life SessionLifetime) (*CustomerSession, error) {
	life = life.withDefaults()
	hash, ok := TokenHash(token)
	if !ok {
		return nil, ErrNoSession
	}
	sess, err := s.DB.SessionByHash(ctx, hash)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, err
	}
	now := s.DB.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= life.Idle {
		if err := s.DB.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, hash) }); err != nil {
			return nil, err
		}
		return nil, ErrSessionExpired
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.DB.Tx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, hash) }); err != nil {
			return nil, err
		}
		sess.LastSeenAt = now.Truncate(time.Second)
	}
	return &CustomerSession{Session: sess}, nil
}

// SignOut ends the session with that token, if there is one. Unknown tokens
// are not an error: signing out twice is fine.
func (s *Service) SignOut(ctx context.Context, token string) error {
	hash, ok := TokenHash(token)
	if !ok {
		return nil
	}
	return s.DB.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, hash) })
}

// PruneSessions deletes sessions no request could use any more. Sessions are
// also checked on every use, so this only keeps the table small; the web
// handler calls it now and then from a request, not from a goroutine.
func (s *Service) PruneSessions(ctx context.Context, life SessionLifetime) (int, error) {
	life = life.withDefaults()
	var n int
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteStaleSessions(ctx, s.DB.Now().Add(-life.Idle))
		return err
	})
	return n, err
}

// IsSessionError reports whether err means "sign in (again)".
func IsSessionError(err error) bool {
	return errors.Is(err, ErrNoSession) || errors.Is(err, ErrSessionExpired)
}
