package mailer

import (
	"os"
	"testing"

	"frontdesk/store/storetest"
)

// TestMain drops the PostgreSQL template database storetest.Postgres made.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
