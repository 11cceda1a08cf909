// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package command

import (
	"fmt"
	"time"

	"github.com/ryanuber/columnize"
)

// shortIDLength is how many characters of a UUID the CLI shows unless
// -verbose is given, as Nomad does.
const shortIDLength = 8

// timeFormat is the layout of absolute dates (Nomad's formatTime).
const timeFormat = "2006-01-02T15:04:05Z07:00"

// formatKV renders "key|value" lines as an aligned "key = value" block.
func formatKV(lines []string) string {
	cfg := columnize.DefaultConfig()
	cfg.Glue = " = "
	return columnize.Format(lines, cfg)
}

// formatList renders "a|b|c" lines, the first being the header, as an
// aligned table; empty cells stay empty.
func formatList(lines []string) string {
	cfg := columnize.DefaultConfig()
	cfg.Empty = "<none>"
	return columnize.Format(lines, cfg)
}

// limit shortens id to n characters; n <= 0 keeps it whole.
func limit(id string, n int) string {
	if n <= 0 || len(id) <= n {
		return id
	}
	return id[:n]
}

// idLength returns how many ID characters to show.
func idLength(verbose bool) int {
	if verbose {
		return 0
	}
	return shortIDLength
}

// orNone shows an empty value as "<none>".
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// formatTime renders t in loc in Nomad's absolute layout; a zero time is
// "N/A".
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() || t.UnixNano() == 0 {
		return "N/A"
	}
	return t.In(loc).Format(timeFormat)
}

// formatUnixNano renders a nanosecond Unix timestamp (the API's CreateTime,
// SubmitTime, ...).
func formatUnixNano(ns int64, loc *time.Location) string {
	if ns == 0 {
		return "N/A"
	}
	return formatTime(time.Unix(0, ns), loc)
}

// relativeTime renders how long before now t was, keeping the two most
// significant units ("1d2h ago", "6m3s ago", "21s ago"). Times in the future
// (clock skew between CLI and agent) read "from now".
func relativeTime(t, now time.Time) string {
	if t.IsZero() || t.UnixNano() == 0 {
		return "N/A"
	}
	d := now.Sub(t).Round(time.Second)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	return shortDuration(d) + suffix
}

// shortDuration renders d with its two most significant units of d, h, m, s.
func shortDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	units := []struct {
		n      int64
		suffix string
	}{
		{secs / 86400, "d"},
		{secs % 86400 / 3600, "h"},
		{secs % 3600 / 60, "m"},
		{secs % 60, "s"},
	}
	first := 0
	for first < len(units)-1 && units[first].n == 0 {
		first++
	}
	out := fmt.Sprintf("%d%s", units[first].n, units[first].suffix)
	if next := first + 1; next < len(units) && units[next].n != 0 {
		out += fmt.Sprintf("%d%s", units[next].n, units[next].suffix)
	}
	return out
}

// timeOrRelative shows an API nanosecond timestamp as an absolute date when
// verbose, else relative to now.
func (m *Meta) timeOrRelative(ns int64, verbose bool) string {
	if verbose {
		return formatUnixNano(ns, m.loc())
	}
	if ns == 0 {
		return "N/A"
	}
	return relativeTime(time.Unix(0, ns), m.timeNow())
}

// humanBytes renders n bytes with binary units the way Nomad's output does
// ("0 B", "6.3 MiB", "256 MiB").
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	i := -1
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}

// plural returns word with an "s" unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
