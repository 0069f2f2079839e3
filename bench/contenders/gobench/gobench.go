// Package gobench is what the Go contenders share: the BENCH_* variables the bench sets, the report they
// print as their last stdout line, and the client tuning both apply, so that the Go rows differ by their
// loop only.
package gobench

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

const (
	// BatchWait is the batch wait of every contender that has one (Kasper's batchWaitMs).
	BatchWait = time.Second
	// FetchBytes is the fetch size per partition, as Kasper's consumer asks.
	FetchBytes = 1024 * 1024
	// MaxWait bounds a fetch parked on a drained input. The broker serves one request per connection at a
	// time, and Kasper's single client shares one connection for fetch, produce and commit: such a fetch holds
	// up the last batch's produce and commit. 100 ms, the least sarama recommends, instead of its 500 ms.
	MaxWait = 100 * time.Millisecond
	// FlushBytes and FlushFrequency: a batch arrives at once through SendMessages, so produce requests fill up
	// to 1 MiB, with a short linger so that the batch's tail (and small batches) go out without waiting.
	FlushBytes     = 1024 * 1024
	FlushFrequency = time.Millisecond
)

// Env is a required variable.
func Env(name string) string {
	value, ok := os.LookupEnv(name)
	if !ok {
		Fail(fmt.Errorf("%s is required", name))
	}
	return value
}

// EnvInt is a required integer variable.
func EnvInt(name string) int {
	n, err := strconv.Atoi(Env(name))
	if err != nil {
		Fail(fmt.Errorf("%s: %w", name, err))
	}
	return n
}

// Fail reports err and exits 1, which the bench lists as a failed run.
func Fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// Report prints the contender report (bench/contenders/report.ts): the window the program measured and
// its peak RSS.
func Report(messages int, seconds float64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		Fail(err)
	}
	report, err := json.Marshal(struct {
		Messages int     `json:"messages"`
		Seconds  float64 `json:"seconds"`
		MaxRssMb float64 `json:"maxRssMb"`
	}{messages, seconds, float64(usage.Maxrss) / 1024})
	if err != nil {
		Fail(err)
	}
	fmt.Println(string(report))
}
