package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// buildTime is when the binary was built, for a release build to set:
//
//	go build -ldflags "-X main.buildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/frontdesk
//
// Go's build information holds no build time (builds are reproducible:
// the same source gives the same binary), so without it the time is
// "unknown"; the commit's time is in the build information.
var buildTime string

// versionText is what --version and `frontdesk version` print: the module
// version, the VCS revision and whether the work tree had changes, the
// commit's time and the build's, and the Go toolchain. A binary built
// without VCS information (-buildvcs=false, or outside a repository) says
// "unknown" where it cannot know.
func versionText() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(bi, buildTime)
}

func formatVersion(bi *debug.BuildInfo, built string) string {
	version, goVersion := "", runtime.Version()
	settings := map[string]string{}
	if bi != nil {
		version, goVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	unknown := func(v string) string {
		if v == "" {
			return "unknown"
		}
		return v
	}
	revision := "unknown (built without VCS information)"
	if r := settings["vcs.revision"]; r != "" {
		revision = r
		switch settings["vcs.modified"] {
		case "true":
			revision += ", with uncommitted changes"
		case "false":
			revision += ", unmodified"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "frontdesk %s\n", unknown(version))
	fmt.Fprintf(&b, "revision   %s\n", revision)
	fmt.Fprintf(&b, "committed  %s\n", unknown(settings["vcs.time"]))
	fmt.Fprintf(&b, "built      %s\n", unknown(built))
	fmt.Fprintf(&b, "go         %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and build time (as --version does)",
		Args:  cobra.NoArgs,
		// Whatever the configuration says: a version is what one asks for
		// when something is wrong with it.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(app.Stdout, versionText())
			return err
		},
	}
}
