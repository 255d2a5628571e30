"""Start the multifloor_slam nodes with one parameters file.

    ros2 launch multifloor_slam multifloor_slam.launch.py [use_sim_time:=true]
        [params_file:=/path/to/multifloor_slam.yaml] [namespace:=robot1] [rviz:=true]

Every node reads its own section of ``params_file`` (default: the installed
``config/multifloor_slam.yaml``). Topic names are relative, so ``namespace`` moves them all.
Machines without ``ros2 launch`` run the same nodes with the same file in one process:
``multifloor-slam run --params FILE [--use-sim-time]``.
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = 'multifloor_slam'
NODES = ('floor_estimator', 'elevator_detector', 'floor_map_manager')


def generate_launch_description() -> LaunchDescription:
    """The three nodes (and optionally RViz) with one parameters file."""
    use_sim_time = LaunchConfiguration('use_sim_time')
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    share = FindPackageShare(PACKAGE)
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
    ]
    nodes = [
        Node(
            package=PACKAGE,
            executable=name,
            name=name,
            namespace=namespace,
            output='screen',
            parameters=[params_file, {'use_sim_time': use_sim_time}],
        )
        for name in NODES
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
