package main

import (
	"strings"
	"testing"
)

func TestThreads(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want int
	}{
		{"one thread by default, as Redis", nil, env(), 1},
		{"--threads", []string{"--threads", "4"}, env(), 4},
		{"--threads 0: the runtime's default", []string{"--threads", "0"}, env(), 0},
		{"GEEREDIS_THREADS", nil, env("GEEREDIS_THREADS", "3"), 3},
		{"GOMAXPROCS over the default", nil, env("GOMAXPROCS", "2"), -1},
		{"--threads over GOMAXPROCS", []string{"--threads", "1"}, env("GOMAXPROCS", "2"), 1},
		{"GEEREDIS_THREADS over GOMAXPROCS", nil, env("GOMAXPROCS", "2", "GEEREDIS_THREADS", "0"), 0},
	}
	for _, tc := range tests {
		o, err := parseFlags(tc.args, tc.env, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := threadsFor(o, tc.env); got != tc.want {
			t.Errorf("%s: threadsFor = %d, want %d", tc.name, got, tc.want)
		}
	}
	var out strings.Builder
	if _, err := parseFlags([]string{"--threads", "-1"}, env(), &out, &out); err == nil {
		t.Error("--threads -1 accepted")
	}
}
