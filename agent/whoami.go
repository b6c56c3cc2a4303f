package main

import (
	"context"
	"os"

	"github.com/countersign/countersign/internal/identity"
)

type whoamiCmd struct {
	ExpectRole string `help:"Role ARN the credentials must belong to; a path in it is ignored, as session ARNs drop it." env:"COUNTERSIGN_ROLE_ARN" name:"expect-role"`
	Output     string `help:"Output format: text or json." default:"text" enum:"text,json"`
}

func (c *whoamiCmd) Run(ctx context.Context, g *globals) error {
	cl, err := g.clients(ctx, 0)
	if err != nil {
		return err
	}

	res, err := identity.Whoami(ctx, cl.STS, identity.Options{
		ExpectRole:        c.ExpectRole,
		CodeBuildBuildARN: os.Getenv("CODEBUILD_BUILD_ARN"),
	})
	if res == nil {
		return err
	}

	if c.Output == "json" {
		if encErr := writeJSON(g.stdout, res); encErr != nil {
			return encErr
		}
	} else {
		identity.WriteText(g.stdout, res)
	}
	return err
}
