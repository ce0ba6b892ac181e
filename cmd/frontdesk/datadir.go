package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The data directory, in the order of the first rule that gives one:
//
//  1. --data-dir
//  2. FRONTDESK_DATA_DIR
//  3. $STATE_DIRECTORY: systemd sets it for a unit with StateDirectory=
//     (a colon-separated list when the unit names several; the first is
//     ours)
//  4. $XDG_DATA_HOME/frontdesk (the XDG base directory spec; an absolute
//     path only, as the spec says)
//  5. ~/.local/share/frontdesk, the spec's default for it
//
// A per-user place rather than the working directory: the same database
// whatever folder a command is run from (cron, a service, another
// terminal), so a command never silently starts over on an empty one.
const (
	ruleFlag    = "--data-dir"
	ruleEnv     = "FRONTDESK_DATA_DIR"
	ruleSystemd = "systemd's STATE_DIRECTORY"
	ruleXDG     = "the per-user default $XDG_DATA_HOME/frontdesk"
	ruleHome    = "the per-user default ~/.local/share/frontdesk"
)

// oldDataDir is where frontdesk kept its data before there were these
// rules: the working directory's frontdesk-data.
const oldDataDir = "frontdesk-data"

// resolveDataDir sets DataDir, unless flagGiven or FRONTDESK_DATA_DIR
// (applyEnv) already did, and DataDirFrom to the rule that chose it. The
// directory is made absolute, so that every message names one place.
func (c *Config) resolveDataDir(flagGiven bool, getenv func(string) string) error {
	switch {
	case flagGiven:
		c.DataDirFrom = ruleFlag
	case c.DataDir != "":
		c.DataDirFrom = ruleEnv
	default:
		if first, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); first != "" {
			c.DataDir, c.DataDirFrom = first, ruleSystemd
		} else if xdg := getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
			c.DataDir, c.DataDirFrom = filepath.Join(xdg, "frontdesk"), ruleXDG
		} else if home := getenv("HOME"); home != "" {
			c.DataDir, c.DataDirFrom = filepath.Join(home, ".local", "share", "frontdesk"), ruleHome
		} else {
			return errors.New("no data directory: neither HOME nor XDG_DATA_HOME is set; give one with --data-dir DIR (or FRONTDESK_DATA_DIR)")
		}
	}
	if c.DataDir == "" {
		return nil // validate says so
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("--data-dir %s: %v", c.DataDir, err)
	}
	c.DataDir = abs
	return nil
}

// whereFrom says which rule chose the data directory, for messages.
func (c *Config) whereFrom() string {
	if c.DataDirFrom == "" {
		return ""
	}
	return " (data directory chosen by " + c.DataDirFrom + ")"
}

// oldDataDirHint points at ./frontdesk-data when it holds a database and
// the per-user default chose another place: the data of an earlier
// frontdesk, which used the working directory.
func (c *Config) oldDataDirHint() string {
	if c.DataDirFrom != ruleXDG && c.DataDirFrom != ruleHome {
		return ""
	}
	old, err := filepath.Abs(oldDataDir)
	if err != nil || old == c.DataDir {
		return ""
	}
	if st, err := os.Stat(filepath.Join(old, "frontdesk.db")); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return fmt.Sprintf(" %s/frontdesk.db here is the database of an earlier frontdesk, which kept its data in the working directory: add --data-dir %s to use it.", oldDataDir, oldDataDir)
}

// noDatabase is a read command's answer when there is no database: where
// it looked, why there, and what makes one.
func (c *Config) noDatabase() string {
	if c.Database != "" {
		return fmt.Sprintf("there is no frontdesk database at %s. `frontdesk org add --name NAME` creates the schema and an organization there; or check --database (FRONTDESK_DATABASE).", c.DBName())
	}
	return fmt.Sprintf("there is no database at %s%s. `frontdesk demo` creates one with a demo organization, `frontdesk org add --name NAME` one for yours; or give --data-dir (FRONTDESK_DATA_DIR) where yours is.%s",
		c.DBPath(), c.whereFrom(), c.oldDataDirHint())
}

// createdNotice is said once, when a command makes the database: where the
// data went.
func (c *Config) createdNotice() string {
	return fmt.Sprintf("frontdesk: created the database %s%s; --data-dir or FRONTDESK_DATA_DIR chooses another place.%s\n",
		c.DBPath(), c.whereFrom(), c.oldDataDirHint())
}
