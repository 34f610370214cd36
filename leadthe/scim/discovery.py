"""What the service provider offers (RFC 7644 §4): ``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``,
built from scim2-models' own descriptions of the resources."""
from __future__ import annotations

from scim2_models import (AuthenticationScheme, Bulk, ChangePassword, Context, EnterpriseUser, ETag, Filter, Group,
                          ListResponse, Meta, Patch, ResourceType, Schema, ServiceProviderConfig, Sort)

from leadthe.scim.errors import ScimError, scim_response
from leadthe.scim.resources import location
from leadthe.scim.users import USER
from leadthe.scim.wire import MAX_RESULTS


def _dump(resource) -> dict:
    return resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def service_provider_config():
    config = ServiceProviderConfig(
        patch=Patch(supported=True), bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS), change_password=ChangePassword(supported=False),
        sort=Sort(supported=False), etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token", primary=True,
            description="The company's SCIM token, made by a company admin under Admin > Single sign-on.")],
        meta=Meta(resource_type="ServiceProviderConfig", location=location("scim.service_provider_config")))
    return scim_response(_dump(config))


def _resource_types() -> dict[str, ResourceType]:
    types = {}
    for model, endpoint in ((USER, "scim.users"), (Group, "scim.groups")):
        described = ResourceType.from_resource(model)
        described.meta = Meta(resource_type="ResourceType", location=location("scim.resource_type", type_id=described.id))
        types[described.id] = described
    return types


def _schemas() -> dict[str, Schema]:
    schemas = {}
    for model in (USER, Group, EnterpriseUser):
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=location("scim.schema", schema_id=schema.id))
        schemas[schema.id] = schema
    return schemas


def _listed(model, items: list) -> object:
    answer = ListResponse[model](total_results=len(items), start_index=1, items_per_page=len(items), resources=items)
    return scim_response(answer.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def resource_types():
    return _listed(ResourceType, list(_resource_types().values()))


def resource_type(type_id: str):
    found = _resource_types().get(type_id)
    if found is None:
        raise ScimError(404, "No such resource type.")
    return scim_response(_dump(found))


def schemas():
    return _listed(Schema, list(_schemas().values()))


def schema(schema_id: str):
    found = _schemas().get(schema_id)
    if found is None:
        raise ScimError(404, "No such schema.")
    return scim_response(_dump(found))
