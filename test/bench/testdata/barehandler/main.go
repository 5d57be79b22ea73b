// Command barehandler is the smallest useful aws-lambda-go handler: the baseline for handler zip sizes.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in map[string]any) (map[string]any, error) { return in, nil })
}
