# One command for the demo, one for the tests (see README). Everything installs itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint fmt install mariadb chromium clean bench bench-cdc tf-owners init plan plan-offline tf-lock apply destroy lambda-zip iceberg-image

# AWS deployment (docs/aws.md). TF_PLUGIN_DIR: a local provider mirror for offline init
# (defaults to $DERSON_TF_PLUGIN_MIRROR; empty means the Terraform registry).
TERRAFORM     ?= terraform
TF_DIR        := infra/terraform
TF_PLUGIN_DIR ?= $(DERSON_TF_PLUGIN_MIRROR)
TF_PLAN       := derson.tfplan

$(BIN)/.installed: pyproject.toml setup.py src/dersonlake/sources/mysql/binlog_row_images.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

mariadb:
	./scripts/ensure-mariadb.sh

## chromium: Debian's headless browser and driver for the dashboard tests
chromium:
	./scripts/ensure-chromium.sh

## demo: private MariaDB, sample owner, full load + delta run into ./lake
demo: install mariadb
	$(BIN)/python -m dersonlake demo

## test: lint and the whole test-suite against a real MariaDB started by the suite
test: install mariadb chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

## bench: full load next to dlt and the client/library floors (see docs/benchmarks.md)
bench: install mariadb
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/full_load.py --multi 0.1 --runs 3 --only ours,dlt-cx,mariadb-cli,cx-floor --rows 1000000

## bench-cdc: source write rate vs mariadb-binlog (C floor) / reader / lake CDC rates and lag (see docs/benchmarks.md)
bench-cdc: install mariadb
	$(BIN)/python bench/cdc.py --single 100000 --big 300000 --lag-seconds 20

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	@if command -v $(TERRAFORM) >/dev/null; then $(TERRAFORM) fmt -check -recursive $(TF_DIR); fi

## fmt: ruff format the Python, terraform fmt the infra
fmt: install
	$(BIN)/ruff format src tests bench
	@if command -v $(TERRAFORM) >/dev/null; then $(TERRAFORM) fmt -recursive $(TF_DIR); \
	  else echo "terraform not found: .tf files not formatted"; fi

## tf-owners: write infra/terraform/owners/<owner>.json (merged task settings, S3 settings) from owners/
tf-owners: install
	$(BIN)/python scripts/terraform_owners.py

## lambda-zip: build/dms-intake.zip, the DMS-intake Lambda package (reproducible), and its size report
## (LAMBDA_ARCH=arm64 for Graviton; set the lambda module's architecture to match)
lambda-zip: install
	$(BIN)/python scripts/lambda_zip.py $(if $(LAMBDA_ARCH),--architecture $(LAMBDA_ARCH))

## iceberg-image: the DMS-iceberg Lambda's container image (docker; push it to ECR and set
## iceberg_image_uri). ICEBERG_IMAGE names the tag, ICEBERG_PLATFORM the platform (linux/arm64 for Graviton)
ICEBERG_IMAGE    ?= derson-lake-iceberg:0.1.0
ICEBERG_PLATFORM ?= linux/amd64
iceberg-image:
	docker build --platform $(ICEBERG_PLATFORM) -f infra/iceberg/Dockerfile -t $(ICEBERG_IMAGE) .

## init: terraform init of the AWS deployment (offline with TF_PLUGIN_DIR)
init:
	$(TERRAFORM) -chdir=$(TF_DIR) init -input=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR))

## plan: refresh the owner files and the Lambda zip, then terraform plan into infra/terraform/derson.tfplan
plan: tf-owners lambda-zip
	$(TERRAFORM) -chdir=$(TF_DIR) plan -input=false -out=$(TF_PLAN)

## plan-offline: terraform plan of a copy of infra/terraform with no AWS account and no network
## (fake credentials, placeholder account id; providers from TF_PLUGIN_DIR / $$DERSON_TF_PLUGIN_MIRROR)
plan-offline: install
	$(BIN)/python scripts/terraform_offline_plan.py $(if $(TF_PLUGIN_DIR),--plugin-dir $(TF_PLUGIN_DIR)) $(if $(TF_VARS),--var-file $(TF_VARS))

## tf-lock: write infra/terraform/.terraform.lock.hcl with the aws provider's hashes for linux and
## macOS (amd64, arm64), to commit; needs the Terraform registry (network)
tf-lock:
	$(TERRAFORM) -chdir=$(TF_DIR) providers lock -platform=linux_amd64 -platform=linux_arm64 \
	  -platform=darwin_amd64 -platform=darwin_arm64

## apply: apply the saved plan (run `make plan` first)
apply:
	@test -f $(TF_DIR)/$(TF_PLAN) || { echo "no saved plan: run 'make plan' first"; exit 1; }
	$(TERRAFORM) -chdir=$(TF_DIR) apply -input=false $(TF_PLAN)
	rm -f $(TF_DIR)/$(TF_PLAN)

## destroy: tear the AWS deployment down (asks for confirmation)
destroy:
	$(TERRAFORM) -chdir=$(TF_DIR) destroy

clean:
	-$(BIN)/python -m dersonlake sandbox stop
	rm -rf .derson lake
