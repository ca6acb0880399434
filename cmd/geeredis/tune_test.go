package main

import (
	"runtime"
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
		{"a GOMAXPROCS the runtime ignores", nil, env("GOMAXPROCS", "abc"), 1},
		{"GOMAXPROCS=0, ignored too", nil, env("GOMAXPROCS", "0"), 1},
		{"the most threads", []string{"--threads", "1024"}, env(), 1024},
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
	for _, bad := range [][]string{{"--threads", "-1"}, {"--threads", "1025"}, {"--threads", "2147483648"}} {
		var out strings.Builder
		if _, err := parseFlags(bad, env(), &out, &out); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var out strings.Builder
	if _, err := parseFlags(nil, env("GEEREDIS_THREADS", "-2"), &out, &out); err == nil {
		t.Error("GEEREDIS_THREADS=-2 accepted")
	}
}

// setThreads sets GOMAXPROCS: the count given, or the runtime's default.
func TestSetThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	none := func(string) string { return "" }
	setThreads(&options{threads: 3, threadsSet: true}, none)
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Errorf("--threads 3: GOMAXPROCS %d", n)
	}
	runtime.SetDefaultGOMAXPROCS()
	want := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(3)
	setThreads(&options{threads: 0, threadsSet: true}, none)
	if n := runtime.GOMAXPROCS(0); n != want {
		t.Errorf("--threads 0: GOMAXPROCS %d, want the runtime's default %d", n, want)
	}
	setThreads(&options{threads: 1}, func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	})
	if n := runtime.GOMAXPROCS(0); n != want {
		t.Errorf("GOMAXPROCS in the environment: setThreads changed the count to %d", n)
	}
}
