// Copyright (c) Drover authors
// SPDX-License-Identifier: MPL-2.0

package fingerprint

import (
	"context"
	"maps"
	"time"

	"github.com/droverhq/drover/plugins"
	"github.com/droverhq/drover/structs"
)

// DriverTimeout bounds one driver's Fingerprint call, so a hung plugin
// cannot stall the node's fingerprint.
const DriverTimeout = 10 * time.Second

// Drivers fingerprints every driver. A driver that errors is reported as
// detected but unhealthy, with the error as its health description. It also
// returns the node attributes the drivers contribute ("driver.<name>" and
// whatever attributes they report).
func Drivers(ctx context.Context, drivers map[string]plugins.Driver) (map[string]*structs.DriverInfo, map[string]string) {
	infos := make(map[string]*structs.DriverInfo, len(drivers))
	attrs := map[string]string{}
	for name, d := range drivers {
		fctx, cancel := context.WithTimeout(ctx, DriverTimeout)
		fp, err := d.Fingerprint(fctx)
		cancel()
		info := &structs.DriverInfo{UpdateTime: time.Now()}
		switch {
		case err != nil:
			info.Detected = true
			info.HealthDescription = "fingerprint failed: " + err.Error()
		case fp == nil:
			info.HealthDescription = "driver returned no fingerprint"
		default:
			info.Detected = fp.Health != plugins.HealthUndetected
			info.Healthy = fp.Health == plugins.HealthHealthy
			info.HealthDescription = fp.HealthDescription
			info.Attributes = maps.Clone(fp.Attributes)
		}
		if info.Detected && info.Healthy {
			attrs["driver."+name] = "1"
			maps.Copy(attrs, info.Attributes)
		}
		infos[name] = info
	}
	return infos, attrs
}

// DriversEqual reports whether two driver fingerprints differ in anything
// but their timestamps: only real changes are worth a re-registration.
func DriversEqual(a, b map[string]*structs.DriverInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || x.Detected != y.Detected || x.Healthy != y.Healthy ||
			x.HealthDescription != y.HealthDescription || !maps.Equal(x.Attributes, y.Attributes) {
			return false
		}
	}
	return true
}
