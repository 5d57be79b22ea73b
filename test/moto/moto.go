// Package moto gives integration tests a moto server: a real AWS-API server on loopback. It uses the one at
// $MOTO_ENDPOINT when set, and otherwise starts `python3 -m moto.server` on a free loopback port for the life of the
// test binary (wrap TestMain with [Main] so it is stopped at the end).
//
// Without moto, tests fail when CI=true and are skipped, loudly, otherwise.
package moto

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	server   *exec.Cmd
	logPath  string
)

// Main runs the tests of a package, stops the moto server it started, if any, and exits with the tests' status.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the tests of a package, stops the moto server it started, if any, and returns the tests' exit status, for a
// TestMain that has more to clean up before it exits (such as jsii.Close).
func Run(m *testing.M) int {
	code := m.Run()
	if server != nil && server.Process != nil {
		server.Process.Kill()
		server.Wait()
		if code == 0 {
			os.Remove(logPath)
		}
	}
	return code
}

// Endpoint returns the moto server's URL, starting one if needed. When there is no moto it fails the test under
// CI=true and skips it otherwise.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		msg := fmt.Sprintf("moto server not available: %v (install moto[server] for python3, or set MOTO_ENDPOINT)", startErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING INTEGRATION TEST %s: %s ***\n\n", t.Name(), msg)
		t.Skip(msg)
	}
	return endpoint
}

// Config returns an AWS SDK configuration pointed at the moto server, with test credentials, and sets
// AWS_ENDPOINT_URL and the credentials in the environment for the test, so code that loads its own configuration
// reaches moto too.
func Config(t testing.TB) aws.Config {
	t.Helper()
	ep := Endpoint(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": ep, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_REGION": "us-east-1", "AWS_SESSION_TOKEN": "",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithBaseEndpoint(ep),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func start() (string, error) {
	if ep := os.Getenv("MOTO_ENDPOINT"); ep != "" {
		return ep, waitReady(ep, 5*time.Second)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(python, "-c", "import moto.server").CombinedOutput(); err != nil {
		return "", fmt.Errorf("python3 cannot import moto.server: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = sysProcAttr()
	logFile, err := os.CreateTemp("", "moto-*.log")
	if err == nil {
		cmd.Stdout, cmd.Stderr = logFile, logFile
		logPath = logFile.Name()
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	server = cmd
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitReady(ep, 60*time.Second); err != nil {
		cmd.Process.Kill()
		return "", fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return ep, nil
}

func waitReady(ep string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moto server at %s not ready after %s", ep, within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
