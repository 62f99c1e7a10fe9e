/* redfish-manager.c: the Redfish Manager and Chassis (API.md section 6):
 * virtmcd is the one BMC of every machine it serves, and the one chassis
 * that holds them.  Answered from memory (virt's machine table); every
 * system's Links.ManagedBy and Links.Chassis point here.
 *
 * The Manager's VirtualMedia: a client whose sushy predates
 * System.VirtualMedia (Debian's 4.3) looks for a system's CD among the
 * members of its managers', ejects every CD it finds there and inserts into
 * the first empty one.  With one manager for every machine, listing every
 * machine's CD would make such an Ironic eject other machines' media and
 * boot the wrong one; so the collection lists the Cd of the caller's
 * system when the caller sees exactly one system (a user per node, its
 * glob naming one machine), and nothing otherwise: the media of a system
 * are at Systems/<id>/VirtualMedia. */
#include "config.h"

#include "redfish.h"
#include "util.h"

static void one_collection(Ctx *c, const char *path, const char *type, const char *name,
                           const char *member)
{
    Json *members = json_arr();

    json_push(members, rf_link(member));
    rf_reply(c, 200, rf_collection(path, type, name, members));
}

void rf_managers_list(Ctx *c)
{
    one_collection(c, RF_ROOT "/Managers", "#ManagerCollection.ManagerCollection",
                   "Manager Collection", RF_MANAGER);
}

void rf_chassis_list(Ctx *c)
{
    one_collection(c, RF_ROOT "/Chassis", "#ChassisCollection.ChassisCollection",
                   "Chassis Collection", RF_CHASSIS);
}

static bool is_id(Ctx *c, const char *param, const char *want)
{
    const char *id = route_param(&c->m, param);

    if (id && streq(id, want))
        return true;
    rf_error(c, 404, "ResourceMissingAtURI", "no such resource: %s", c->req->path);
    return false;
}

static Json *status_ok(void)
{
    Json *o = json_obj();

    json_set_str(o, "State", "Enabled");
    json_set_str(o, "Health", "OK");
    return o;
}

static Json *one_link(const char *path)
{
    Json *a = json_arr();

    json_push(a, rf_link(path));
    return a;
}

void rf_manager_get(Ctx *c)
{
    Json *o, *links, *systems;

    if (!is_id(c, "mgr", RF_MANAGER_ID))
        return;
    systems = rf_systems_links(c);
    if (!systems) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    o = rf_resource(RF_MANAGER, "#Manager.v1_5_0.Manager", RF_MANAGER_ID, "virtmcd");
    json_set_str(o, "Description", "virtmcd, the management controller of libvirt machines");
    json_set_str(o, "ManagerType", "BMC");
    json_set_str(o, "Model", PACKAGE_NAME);
    json_set_str(o, "FirmwareVersion", PACKAGE_VERSION);
    json_set_str(o, "PowerState", "On");
    json_set(o, "Status", status_ok());
    json_set(o, "VirtualMedia", rf_link(RF_MANAGER "/VirtualMedia"));
    links = json_obj();
    json_set_int(links, "ManagerForServers@odata.count", (long long)json_arr_len(systems));
    json_set(links, "ManagerForServers", systems);
    json_set(links, "ManagerForChassis", one_link(RF_CHASSIS));
    json_set(o, "Links", links);
    rf_reply(c, 200, o);
}

void rf_chassis_get(Ctx *c)
{
    Json *o, *links, *systems;

    if (!is_id(c, "ch", RF_CHASSIS_ID))
        return;
    systems = rf_systems_links(c);
    if (!systems) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    o = rf_resource(RF_CHASSIS, "#Chassis.v1_10_0.Chassis", RF_CHASSIS_ID,
                    "virtmcd's libvirt hosts");
    json_set_str(o, "ChassisType", "Other");
    json_set(o, "Status", status_ok());
    links = json_obj();
    json_set_int(links, "ComputerSystems@odata.count", (long long)json_arr_len(systems));
    json_set(links, "ComputerSystems", systems);
    json_set(links, "ManagedBy", one_link(RF_MANAGER));
    json_set(o, "Links", links);
    rf_reply(c, 200, o);
}

void rf_manager_media_list(Ctx *c)
{
    _cleanup_free_ char *member = NULL;
    Json *systems, *members;

    if (!is_id(c, "mgr", RF_MANAGER_ID))
        return;
    systems = rf_systems_links(c);
    if (!systems) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    members = json_arr();
    if (json_arr_len(systems) == 1) {
        const char *sys = json_as_str(json_get(json_arr_get(systems, 0), "@odata.id"));

        member = sys ? strdup_printf("%s/VirtualMedia/Cd", sys) : NULL;
        if (member)
            json_push(members, rf_link(member));
    }
    json_unref(systems);
    rf_reply(c, 200, rf_collection(RF_MANAGER "/VirtualMedia",
                                   "#VirtualMediaCollection.VirtualMediaCollection",
                                   "Virtual Media Collection", members));
}
