package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Region is the region of the rehearsal's moto server and of everything it materializes.
const Region = "us-east-1"

// AdminUser is the name of the IAM user the rehearsal creates in its moto server, with an allow-all policy: the
// identity of the materialization and of the tests' own calls.
const AdminUser = "rehearsal-admin"

// bootstrapCalls is how many unauthenticated requests moto serves before it checks every request (its
// INITIAL_NO_AUTH_ACTION_COUNT): CreateUser, PutUserPolicy and CreateAccessKey of the admin user.
const bootstrapCalls = 3

// Moto is a moto server of the rehearsal's own that enforces IAM: every request must be signed with credentials moto
// issued (an IAM user's access key, or an assumed role's) and be allowed by the identity's policies.
//
// moto counts the requests it serves (any service's action, answered or refused; not /moto-api/) and checks none until
// the count reaches INITIAL_NO_AUTH_ACTION_COUNT. [StartMoto] starts it with that count at 3, spends the three
// unauthenticated requests on the admin user (CreateUser, PutUserPolicy with an allow-all document, CreateAccessKey),
// then sends requests with made-up credentials until moto refuses one, so IAM is known to be enforced before anything
// else runs.
//
// What moto checks, once enforcing: the signature, and that some policy of the identity allows the action. It matches
// statements' resources only for S3 (bucket and object ARNs), SQS (the queue's ARN), IAM (a role's ARN) and STS
// (AssumeRole's role ARN, and the role's trust policy); every other service's action is checked against the resource
// "*", so a statement naming a table's ARN never allows a DynamoDB call. See [Start] for how the rehearsal fills the
// gap.
type Moto struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT.
	URL string
	// Admin is the admin user's access key.
	Admin aws.Credentials
	// AdminARN is the admin user's ARN.
	AdminARN string
	// LogFile is the server's log; it is removed at the end of a test that passed.
	LogFile string

	cmd *exec.Cmd
}

// StartMoto starts an IAM-enforcing moto server (python3 -m moto.server on a free loopback port) for the test and
// stops it when the test ends. Without python3 and moto it fails the test under CI=true and skips it, loudly,
// otherwise.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		msg := fmt.Sprintf("python3 cannot import moto.server (%v): install moto[server]", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skip(msg)
	}
	m, err := startMoto()
	if m != nil {
		t.Cleanup(func() {
			m.stop()
			if !t.Failed() {
				os.Remove(m.LogFile)
			} else {
				t.Logf("moto server log: %s", m.LogFile)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func startMoto() (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.CreateTemp("", "rehearsal-moto-*.log")
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(bootstrapCalls))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto server: %w", err)
	}
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), LogFile: log.Name(), cmd: cmd}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := waitReady(ctx, m.URL); err != nil {
		return m, fmt.Errorf("%w (log: %s)", err, m.LogFile)
	}
	if err := m.bootstrap(ctx); err != nil {
		return m, fmt.Errorf("moto server %s: %w (log: %s)", m.URL, err, m.LogFile)
	}
	return m, nil
}

// bootstrap creates the admin user with the unauthenticated requests, then makes sure moto enforces IAM.
func (m *Moto) bootstrap(ctx context.Context) error {
	anon := m.iam(aws.Credentials{AccessKeyID: "bootstrap", SecretAccessKey: "bootstrap"})
	user, err := anon.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(AdminUser)})
	if err != nil {
		return fmt.Errorf("create the admin user (unauthenticated request 1 of %d): %w", bootstrapCalls, err)
	}
	if _, err := anon.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(AdminUser), PolicyName: aws.String("allow-all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	}); err != nil {
		return fmt.Errorf("give the admin user its policy (unauthenticated request 2 of %d): %w", bootstrapCalls, err)
	}
	key, err := anon.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(AdminUser)})
	if err != nil {
		return fmt.Errorf("create the admin user's access key (unauthenticated request 3 of %d): %w", bootstrapCalls, err)
	}
	m.Admin = aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey), Source: "rehearsal admin user"}
	m.AdminARN = aws.ToString(user.User.Arn)

	// Until moto has counted its unauthenticated requests, made-up credentials pass: spend any left, then require a
	// refusal.
	refused := false
	for i := 0; i <= bootstrapCalls && !refused; i++ {
		_, err := anon.ListUsers(ctx, &iam.ListUsersInput{})
		var re *awshttp.ResponseError // moto's IAM error body is one the SDK cannot read: the status tells
		switch {
		case err == nil:
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
			refused = true
		default:
			return fmt.Errorf("probe with made-up credentials: %w", err)
		}
	}
	if !refused {
		return fmt.Errorf("moto still serves requests with made-up credentials after %d requests: IAM is not enforced (INITIAL_NO_AUTH_ACTION_COUNT ignored?)", 2*bootstrapCalls+1)
	}
	if _, err := m.iam(m.Admin).GetUser(ctx, &iam.GetUserInput{UserName: aws.String(AdminUser)}); err != nil {
		return fmt.Errorf("the admin user's own request is refused: %w", err)
	}
	return nil
}

// Config returns an AWS SDK configuration with the admin user's credentials, in Region, pointed at endpoint (the
// server's URL when empty).
func (m *Moto) Config(endpoint string) aws.Config {
	if endpoint == "" {
		endpoint = m.URL
	}
	return configFor(endpoint, m.Admin)
}

func configFor(endpoint string, c aws.Credentials) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.StaticCredentialsProvider{Value: c},
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Timeout: 60 * time.Second},
		// No retries: a refusal is reported as it comes, and moto on loopback does not throttle.
		RetryMaxAttempts: 1,
	}
}

func (m *Moto) iam(c aws.Credentials) *iam.Client {
	return iam.NewFromConfig(configFor(m.URL, c))
}

func (m *Moto) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

func waitReady(ctx context.Context, url string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moto server at %s not ready: %w", url, ctx.Err())
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
