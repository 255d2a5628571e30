"""Start the multifloor_slam nodes with one parameters file.

    ros2 launch multifloor_slam multifloor_slam.launch.py [use_sim_time:=true]
        [params_file:=/path/to/multifloor_slam.yaml] [namespace:=robot1] [rviz:=true]
    ros2 launch multifloor_slam multifloor_slam.launch.py mode:=localization
        building:=/path/to/building [nav_params_file:=/path/to/nav2_multifloor.yaml]

Mapping (the default mode): every node reads its own section of ``params_file`` (default: the
installed ``config/multifloor_slam.yaml``). Topic names are relative, so ``namespace`` moves
them all. Machines without ``ros2 launch`` run the same nodes with the same file in one
process: ``multifloor-slam run --params FILE [--use-sim-time]``.

Localization (``mode:=localization``, see docs/navigation.md): the floor estimator starts
with the saved building's floor table (``building_file``, no table file of its own), and
``floor_localizer`` and ``route_planner`` load the same building read-only; their parameters
come from ``nav_params_file`` (default: the installed ``config/nav2_multifloor.yaml``, which
also holds the AMCL settings to give Nav2's bringup). Nav2 itself (AMCL, no map_server on
``map``) is started by the user's Nav2 launch.
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = 'multifloor_slam'
NODES = ('floor_estimator', 'elevator_detector', 'floor_map_manager')
#: Localization mode: the floor estimator plus these, on a saved building.
NAV_NODES = ('floor_localizer', 'route_planner')


def generate_launch_description() -> LaunchDescription:
    """The three nodes (mapping) or the localization-mode nodes, and optionally RViz."""
    use_sim_time = LaunchConfiguration('use_sim_time')
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    mode = LaunchConfiguration('mode')
    building = LaunchConfiguration('building')
    nav_params_file = LaunchConfiguration('nav_params_file')
    share = FindPackageShare(PACKAGE)
    mapping = IfCondition(PythonExpression(["'", mode, "' == 'mapping'"]))
    localization = IfCondition(PythonExpression(["'", mode, "' == 'localization'"]))
    arguments = [
        DeclareLaunchArgument(
            'use_sim_time', default_value='false', description='use /clock (bag replay)'
        ),
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([share, 'config', 'multifloor_slam.yaml']),
            description='parameters of all nodes',
        ),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of all nodes'),
        DeclareLaunchArgument('rviz', default_value='false', description='also start RViz2'),
        DeclareLaunchArgument(
            'mode', default_value='mapping', description='mapping | localization'
        ),
        DeclareLaunchArgument(
            'building',
            default_value='',
            description='localization mode: the saved building (building.yaml or its folder)',
        ),
        DeclareLaunchArgument(
            'nav_params_file',
            default_value=PathJoinSubstitution([share, 'config', 'nav2_multifloor.yaml']),
            description='localization mode: parameters of floor_localizer and route_planner',
        ),
    ]
    nodes = [
        Node(
            package=PACKAGE,
            executable=name,
            name=name,
            namespace=namespace,
            output='screen',
            parameters=[params_file, {'use_sim_time': use_sim_time}],
            condition=mapping,
        )
        for name in NODES
    ]
    # Localization mode: the estimator numbers floors with the building's own table.
    nodes.append(
        Node(
            package=PACKAGE,
            executable='floor_estimator',
            name='floor_estimator',
            namespace=namespace,
            output='screen',
            parameters=[
                params_file,
                {
                    'use_sim_time': use_sim_time,
                    'building_file': building,
                    'floor_table_file': '',
                },
            ],
            condition=localization,
        )
    )
    nodes += [
        Node(
            package=PACKAGE,
            executable=name,
            name=name,
            namespace=namespace,
            output='screen',
            parameters=[
                nav_params_file,
                {'use_sim_time': use_sim_time, 'building_file': building},
            ],
            condition=localization,
        )
        for name in NAV_NODES
    ]
    rviz = Node(
        package='rviz2',
        executable='rviz2',
        name='rviz2',
        namespace=namespace,
        arguments=['-d', PathJoinSubstitution([share, 'config', 'multifloor_slam.rviz'])],
        parameters=[{'use_sim_time': use_sim_time}],
        condition=IfCondition(LaunchConfiguration('rviz')),
    )
    return LaunchDescription([*arguments, *nodes, rviz])
