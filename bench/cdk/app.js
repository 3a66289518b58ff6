// Pantri's reference infrastructure as a plain-JavaScript AWS CDK app (no TypeScript compile
// step), to measure `cdk synth` the way scripts/bench-scale measures `pantri synth`: one stack
// per stage (dev, prod), each a VPC over two zones with NAT and flow logs, an ECS Fargate
// service behind an HTTPS ALB (with a FireLens log router and a Datadog agent sidecar, CPU and
// memory target tracking), S3 buckets (static files, ALB access logs), a Cognito user pool with a
// client and a domain, a CloudFront distribution over the static bucket through Origin Access
// Control, a Route 53 zone, an ACM certificate and the log groups and roles they need: the
// building blocks of /work/shared/reference/cdk (its dev and prod templates, 66 and 78
// resources). Not the reference app itself: pantri's app has more (alarms, Datadog monitors,
// Cloud Map), which the CDK's figure does not include.
//
// Run by scripts/bench-cdk (`npx cdk synth` with `--app "node app.js"`, or `node app.js`).
'use strict';

const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const ecsPatterns = require('aws-cdk-lib/aws-ecs-patterns');
const ecr = require('aws-cdk-lib/aws-ecr');
const elbv2 = require('aws-cdk-lib/aws-elasticloadbalancingv2');
const s3 = require('aws-cdk-lib/aws-s3');
const cognito = require('aws-cdk-lib/aws-cognito');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const route53 = require('aws-cdk-lib/aws-route53');
const targets = require('aws-cdk-lib/aws-route53-targets');
const acm = require('aws-cdk-lib/aws-certificatemanager');
const logs = require('aws-cdk-lib/aws-logs');
const secrets = require('aws-cdk-lib/aws-secretsmanager');

const STAGES = [
  { name: 'dev', domain: 'dev.pantri.example.com', cidr: '10.10.0.0/16', nat: 1, tasks: 1, max: 2, retain: false },
  { name: 'prod', domain: 'pantri.example.com', cidr: '10.20.0.0/16', nat: 2, tasks: 3, max: 12, retain: true },
];

class PantriStack extends cdk.Stack {
  constructor(scope, id, stage, props) {
    super(scope, id, props);
    const removalPolicy = stage.retain ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY;

    const flowLogs = new logs.LogGroup(this, 'VpcFlowLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(stage.cidr),
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      natGateways: stage.nat,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      flowLogs: { FlowLog: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) } },
    });

    const zone = new route53.PublicHostedZone(this, 'Zone', { zoneName: stage.domain });
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: stage.domain,
      validation: acm.CertificateValidation.fromDns(zone),
    });

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: cdk.Duration.days(90) }],
      removalPolicy,
    });
    const staticFiles = new s3.Bucket(this, 'StaticFiles', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy,
    });

    const userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      mfa: stage.retain ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: { minLength: 12, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy,
    });
    const client = userPool.addClient('WebClient', {
      generateSecret: true,
      oAuth: { callbackUrls: [`https://${stage.domain}/api/auth/callback/cognito`] },
    });
    userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: `pantri-${stage.name}` } });

    const repository = new ecr.Repository(this, 'Repository', { imageScanOnPush: true, removalPolicy });
    const ddApiKey = new secrets.Secret(this, 'DatadogApiKey');
    const agentLogs = new logs.LogGroup(this, 'DatadogAgentLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const routerLogs = new logs.LogGroup(this, 'LogRouterLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, enableFargateCapacityProviders: true });
    const taskDef = new ecs.FargateTaskDefinition(this, 'TaskDef', { cpu: 1024, memoryLimitMiB: 2048 });
    // The service's container comes first: the pattern routes the load balancer to the first.
    const web = taskDef.addContainer('web', {
      image: ecs.ContainerImage.fromEcrRepository(repository, 'latest'),
      environment: {
        NODE_ENV: 'production', PORT: '3000', DD_ENV: stage.name, DD_SERVICE: 'pantri',
        STATIC_BUCKET: staticFiles.bucketName, COGNITO_USER_POOL_ID: userPool.userPoolId,
        COGNITO_CLIENT_ID: client.userPoolClientId, NEXTAUTH_URL: `https://${stage.domain}`,
      },
      logging: ecs.LogDrivers.firelens({
        options: { Name: 'datadog', Host: 'http-intake.logs.datadoghq.com', TLS: 'on', dd_service: 'pantri' },
        secretOptions: { apikey: ecs.Secret.fromSecretsManager(ddApiKey) },
      }),
      portMappings: [{ containerPort: 3000 }],
    });
    const router = taskDef.addFirelensLogRouter('log-router', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-observability/aws-for-fluent-bit:stable'),
      firelensConfig: { type: ecs.FirelensLogRouterType.FLUENTBIT, options: { enableECSLogMetadata: true } },
      logging: ecs.LogDrivers.awsLogs({ logGroup: routerLogs, streamPrefix: 'log-router' }),
      memoryReservationMiB: 50,
    });
    const agent = taskDef.addContainer('datadog-agent', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/datadog/agent:latest'),
      environment: { ECS_FARGATE: 'true', DD_APM_ENABLED: 'true', DD_APM_NON_LOCAL_TRAFFIC: 'true' },
      secrets: { DD_API_KEY: ecs.Secret.fromSecretsManager(ddApiKey) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: agentLogs, streamPrefix: 'datadog-agent' }),
      healthCheck: { command: ['CMD-SHELL', 'agent health'] },
      portMappings: [{ containerPort: 8126 }],
    });
    web.addContainerDependencies(
      { container: router, condition: ecs.ContainerDependencyCondition.START },
      { container: agent, condition: ecs.ContainerDependencyCondition.HEALTHY },
    );
    staticFiles.grantReadWrite(taskDef.taskRole);

    const service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Web', {
      cluster,
      taskDefinition: taskDef,
      desiredCount: stage.tasks,
      certificate,
      domainName: stage.domain,
      domainZone: zone,
      redirectHTTP: true,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      publicLoadBalancer: true,
    });
    service.loadBalancer.logAccessLogs(accessLogs);
    service.targetGroup.configureHealthCheck({ path: '/api/health' });
    const scaling = service.service.autoScaleTaskCount({ minCapacity: stage.tasks, maxCapacity: stage.max });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    scaling.scaleOnMemoryUtilization('Memory', { targetUtilizationPercent: 70 });

    const cdn = new cloudfront.Distribution(this, 'Cdn', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(staticFiles),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    });
    new route53.ARecord(this, 'AliasA', { zone, recordName: `static.${stage.domain}`, target: route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(cdn)) });
    new route53.AaaaRecord(this, 'AliasAAAA', { zone, recordName: `static.${stage.domain}`, target: route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(cdn)) });
  }
}

// The zones a lookup would find (what a project commits in cdk.context.json): without them the
// CLI calls AWS, which the benchmark must not.
const app = new cdk.App({
  context: { 'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
});
for (const stage of STAGES) {
  new PantriStack(app, `pantri-${stage.name}`, stage, { env: { account: '123456789012', region: 'us-east-1' } });
}
app.synth();
