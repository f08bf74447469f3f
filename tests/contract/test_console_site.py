"""The web console's CORS and static site, as the template declares them: one origin
everywhere, a preflight for every path a browser calls with a token, and a site bucket
that only its own CloudFront distribution can read."""

from __future__ import annotations

from tests.contract.template import functions, resources, template

ORIGIN = {"If": ["HostConsole", {"Sub": "https://${ConsoleDistribution.DomainName}"}, {"Ref": "ConsoleOrigin"}]}
QUOTED_ORIGIN = {
    "If": ["HostConsole", {"Sub": "'https://${ConsoleDistribution.DomainName}'"}, {"Sub": "'${ConsoleOrigin}'"}]
}


def test_the_function_the_preflights_and_the_gateway_errors_name_the_same_origin():
    api = functions()["OrderApiFunction"]["Properties"]
    assert api["Environment"]["Variables"]["CONSOLE_ORIGIN"] == ORIGIN
    responses = resources("AWS::Serverless::Api")["OrderApi"]["Properties"]["GatewayResponses"]
    assert set(responses) == {"UNAUTHORIZED", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses.values():
        assert response["ResponseParameters"]["Headers"] == {"Access-Control-Allow-Origin": QUOTED_ORIGIN}


def test_every_path_called_with_a_token_has_a_public_preflight():
    events = functions()["OrderApiFunction"]["Properties"]["Events"].values()
    with_token = {e["Properties"]["Path"] for e in events if e["Properties"].get("Auth") != {"Authorizer": "NONE"}}
    preflights = {
        e["Properties"]["Path"]
        for e in events
        if e["Properties"]["Method"] == "options" and e["Properties"]["Auth"] == {"Authorizer": "NONE"}
    }
    assert with_token and with_token <= preflights


def test_the_site_is_conditional_private_and_read_only_through_its_distribution():
    site = {name: res for name, res in template()["Resources"].items() if name.startswith("Console")}
    assert site and all(res["Condition"] == "HostConsole" for res in site.values())
    bucket = site["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [statement] = site["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"] == {
        "Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}"
    }
    config = site["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    headers = site["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert "script-src 'self'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Sub"]
