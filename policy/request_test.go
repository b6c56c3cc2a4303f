package policy

// Principals and resources shared by the evaluation tests: a tools account
// that builds and a dev account that owns the artifact bucket.
const (
	toolsAccount = "111111111111"
	devAccount   = "222222222222"

	buildSession = "arn:aws:sts::111111111111:assumed-role/build-role/build-42"
	buildRole    = "arn:aws:iam::111111111111:role/service-role/build-role"
	aliceSession = "arn:aws:sts::222222222222:assumed-role/deployer/alice"
	bobSession   = "arn:aws:sts::222222222222:assumed-role/other/bob"
	carolUser    = "arn:aws:iam::222222222222:user/carol"
	devRoot      = "arn:aws:iam::222222222222:root"
	artifact     = "arn:aws:s3:::dev-artifacts/builds/app.zip"
	deliveryRole = "arn:aws:iam::222222222222:role/delivery"
)
