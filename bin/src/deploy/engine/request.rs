//! Building a change set request: the template inline or staged in S3, and every parameter
//! filled (explicit values, cross-region links, the deployer's environment, previous values).

use pantri_synth::assembly::StackArtifact;

use super::*;

/// Where a parameter's value comes from ([`Engine::fill`]).
pub(super) enum Fill<'s> {
    /// A value known now (`--parameters`, the environment).
    Value(String),
    /// An output of a stack in another region, read when the change set is created.
    CrossRegion(&'s pantri_synth::assembly::CrossRegionLink),
    /// The value the stack has (`UsePreviousValue`).
    Previous,
    /// The template's default: nothing is passed.
    Default,
    /// No value anywhere: what to do about it.
    Missing(DeployError),
}

impl<'a, A: CloudFormation + TemplateStaging> Engine<'a, A> {
    pub(super) async fn change_set_request(
        &self,
        stack: &StackArtifact,
        kind: ChangeSetType,
        existing: Option<&StackInfo>,
    ) -> Result<ChangeSetRequest, DeployError> {
        let dn = stack.display_name.as_str();
        let body = serde_json::to_string(&stack.template)
            .map_err(|e| DeployError::Usage(format!("[{dn}] cannot render the template: {e}")))?;
        let template_url = if body.len() > INLINE_TEMPLATE_LIMIT {
            Some(self.stage_template(stack, &body).await?)
        } else {
            None
        };
        let mut parameters = Vec::new();
        if let Some(declared) = stack.template["Parameters"].as_object() {
            for (key, decl) in declared {
                match self.fill(stack, key, decl, kind, existing) {
                    Fill::Value(value) => parameters.push(ParameterValue::Value {
                        key: key.clone(),
                        value,
                    }),
                    Fill::CrossRegion(link) => {
                        let value = self
                            .producer_output(stack, &link.producer, &link.output)
                            .await?;
                        parameters.push(ParameterValue::Value {
                            key: key.clone(),
                            value,
                        });
                    }
                    Fill::Previous => {
                        parameters.push(ParameterValue::UsePrevious { key: key.clone() })
                    }
                    Fill::Default => {}
                    Fill::Missing(e) => return Err(e),
                }
            }
        }
        let mut capabilities = vec!["CAPABILITY_IAM".into(), "CAPABILITY_NAMED_IAM".into()];
        if stack.template.get("Transform").is_some() {
            capabilities.push("CAPABILITY_AUTO_EXPAND".into());
        }
        Ok(ChangeSetRequest {
            stack_name: stack.properties.stack_name.clone(),
            change_set_name: self.options.change_set_name.clone(),
            kind,
            template_body: body,
            template_url,
            parameters,
            tags: stack.properties.tags.clone(),
            capabilities,
            description: format!("pantri deploy {dn}"),
            role_arn: self.options.role_arn.clone(),
        })
    }

    /// Where the value of parameter `key` of `stack` comes from, in this order: `--parameters`,
    /// another region's output, the deployer's environment, the stack's previous value, the
    /// template's default. Decided without any call, so that [`Engine::precheck`] can find every
    /// missing value before anything is touched.
    pub(super) fn fill<'s>(
        &self,
        stack: &'s StackArtifact,
        key: &str,
        decl: &serde_json::Value,
        kind: ChangeSetType,
        existing: Option<&StackInfo>,
    ) -> Fill<'s> {
        let dn = stack.display_name.as_str();
        if let Some(value) = explicit_value(&self.options.parameters, stack, key) {
            return Fill::Value(value.to_owned());
        }
        if let Some(link) = stack.cross_region.iter().find(|l| l.parameter == key) {
            return Fill::CrossRegion(link);
        }
        let from_env = stack.env_parameters.iter().find(|p| p.parameter == key);
        // Secrets (an API key) come from the deployer's environment, never from cdk.out.
        if let Some(value) = from_env
            .and_then(|p| std::env::var(&p.variable).ok())
            .filter(|v| !v.is_empty())
        {
            return Fill::Value(value);
        }
        if existing
            .is_some_and(|s| kind == ChangeSetType::Update && s.parameters.iter().any(|p| p == key))
        {
            return Fill::Previous;
        }
        if let Some(p) = from_env {
            return Fill::Missing(DeployError::Usage(format!(
                "[{dn}] parameter {key} is filled from the environment variable {}, which is not set: export it (or pass --parameters {}:{key}=VALUE)",
                p.variable, stack.properties.stack_name
            )));
        }
        if decl.get("Default").is_none() {
            return Fill::Missing(DeployError::Usage(format!(
                "[{dn}] parameter {key} has no value and no default: pass --parameters {}:{key}=VALUE",
                stack.properties.stack_name
            )));
        }
        Fill::Default
    }

    /// Uploads a body too large to send inline to the staging bucket (created on first use)
    /// unless it is there already, and returns the URL CloudFormation reads it from.
    pub(super) async fn stage_template(
        &self,
        stack: &StackArtifact,
        body: &str,
    ) -> Result<String, DeployError> {
        let dn = stack.display_name.as_str();
        let name = stack.properties.stack_name.as_str();
        let region = stack.env.region.as_str();
        // The deploying account (STS's, which the stack's account was checked against) owns the
        // bucket: the bucket is trusted only if it does, so it is the expected owner of every
        // S3 call.
        let account = self
            .options
            .caller_account
            .as_deref()
            .unwrap_or(stack.env.account.as_str());
        if !crate::deploy::account::is_concrete_account(account) {
            return Err(DeployError::Usage(format!(
                "[{dn}] the template of stack {name} is {} bytes, over CloudFormation's inline limit of {INLINE_TEMPLATE_LIMIT}, and goes through an S3 staging bucket, which must be owned by the stack's account, but that account is not known ({account}): set the stage's account",
                body.len()
            )));
        }
        let bucket = match &self.options.staging_bucket {
            Some(b) => b.clone(),
            None => default_staging_bucket(account, region),
        };
        let api = self.client(stack)?;
        let fail = |source: ApiError| DeployError::Staging {
            stack: dn.into(),
            stack_name: name.into(),
            bucket: bucket.clone(),
            source: Box::new(source),
        };
        let ready = (region.to_owned(), bucket.clone());
        if !self.staging_ready.borrow().contains(&ready) {
            let fixed = api
                .ensure_staging_bucket(&bucket, account)
                .await
                .map_err(fail)?;
            if !fixed.is_empty() {
                self.ui.warn(format_args!(
                    "{dn}: staging bucket {bucket} had lost its hardening; re-applied {}",
                    fixed.join(", ")
                ));
            }
            self.staging_ready.borrow_mut().insert(ready);
        }
        let key = staged_template_key(name, body);
        // Reuse an object only when its checksum is the body's: anything else in its place is
        // replaced by the body.
        let sum = sha256_base64(body);
        let staged = api
            .staged_sha256(&bucket, &key, account)
            .await
            .map_err(fail)?;
        if staged.as_deref() != Some(sum.as_str()) {
            api.put_template(&bucket, &key, body, account)
                .await
                .map_err(fail)?;
        }
        self.ui.say(format_args!(
            "{dn}: template ({} bytes) staged at s3://{bucket}/{key}",
            body.len()
        ));
        Ok(api.template_url(&bucket, &key))
    }

    pub(super) async fn producer_output(
        &self,
        consumer: &StackArtifact,
        producer: &str,
        output: &str,
    ) -> Result<String, DeployError> {
        let dn = consumer.display_name.as_str();
        let p = self
            .assembly
            .iter()
            .find(|s| s.id == producer)
            .ok_or_else(|| {
                DeployError::Usage(format!(
                    "[{dn}] cross-region producer {producer} is not in the assembly"
                ))
            })?;
        let api = self.client(p)?;
        let name = p.properties.stack_name.as_str();
        let info = api
            .describe_stack(name)
            .await
            .map_err(|e| DeployError::api(dn, e))?;
        let failed = |why: String| DeployError::Failed {
            stack: dn.into(),
            message: format!(
                "output {output} of stack {name} ({}) is not available: {why}",
                p.env.region
            ),
        };
        let Some(info) = info else {
            return Err(failed(format!(
                "the stack does not exist: deploy {} first",
                p.display_name
            )));
        };
        if let Some(value) = info.outputs.get(output) {
            return Ok(value.clone());
        }
        // Why it is missing decides what to do: an older template, or an endpoint that does
        // not report outputs (moto 5.2 reports none for a stack deployed by a change set).
        let body = api
            .get_template(name)
            .await
            .map_err(|e| DeployError::api(dn, e))?;
        let declares = body
            .map(|body| crate::deploy::deployed::DeployedStack {
                info: info.clone(),
                body,
            })
            .and_then(|d| d.template().ok())
            .is_some_and(|t| t["Outputs"].get(output).is_some());
        Err(failed(if declares {
            format!(
                "the stack is {} and its template declares the output, but the endpoint reports no value for it (moto 5.2 reports no outputs of a stack deployed through a change set): deploy against CloudFormation, or pass what the output names by hand",
                info.status
            )
        } else {
            format!(
                "the stack is {} and its deployed template has no such output: deploy {} first",
                info.status, p.display_name
            )
        }))
    }
}
