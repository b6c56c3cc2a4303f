package s3sync

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"
)

// remoteObject is one listed destination key.
type remoteObject struct {
	key  string
	rel  string // relative to the prefix
	size int64
	etag string
}

// remoteListing is the destination prefix, minus directory markers and the
// reserved directory.
type remoteListing struct {
	objects     map[string]remoteObject // by relative path
	manifest    *remoteObject           // the manifest object, when present
	markersSeen int
}

// listRemote lists every key under the prefix, 1,000 keys a page.
func listRemote(ctx context.Context, client Client, opts Options) (*remoteListing, error) {
	log := zerolog.Ctx(ctx)
	listPrefix := ""
	if opts.Prefix != "" {
		listPrefix = opts.Prefix + "/"
	}
	reserved := ReservedPrefix(opts.Prefix)
	manifestKey := ManifestKey(opts.Prefix)

	out := &remoteListing{objects: make(map[string]remoteObject)}
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(opts.Bucket),
		Prefix:  aws.String(listPrefix),
		MaxKeys: aws.Int32(1000),
	}
	if opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(opts.ExpectedBucketOwner)
	}

	for page := 1; ; page++ {
		log.Debug().Str("bucket", opts.Bucket).Str("prefix", listPrefix).Int("page", page).Msg("ListObjectsV2")
		resp, err := client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", opts.Bucket, listPrefix, err)
		}

		for _, obj := range resp.Contents {
			key := aws.ToString(obj.Key)
			switch {
			case strings.HasSuffix(key, "/"):
				out.markersSeen++
			case key == manifestKey:
				out.manifest = &remoteObject{key: key, size: aws.ToInt64(obj.Size), etag: aws.ToString(obj.ETag)}
			case strings.HasPrefix(key, reserved):
			default:
				rel := strings.TrimPrefix(key, listPrefix)
				out.objects[rel] = remoteObject{key: key, rel: rel, size: aws.ToInt64(obj.Size), etag: aws.ToString(obj.ETag)}
			}
		}

		if !aws.ToBool(resp.IsTruncated) || aws.ToString(resp.NextContinuationToken) == "" {
			return out, nil
		}
		in.ContinuationToken = resp.NextContinuationToken
	}
}
